// ServiceAccounts: `serviceaccounts/<name>/token` is the TokenRequest API (`kubectl create
// token`): a short-lived token for the account, optionally bound to a Pod, Secret or Node.

import type { ServiceAccountConfig } from '../config.js';
import { createTokenRequest, type BoundObjectLookup, type TokenSigner } from '../../serviceaccount/index.js';
import { withSubresources } from './default.js';
import type { Strategy } from './types.js';

export interface TokenIssuing {
  signer: TokenSigner;
  lookup: BoundObjectLookup;
  config: ServiceAccountConfig['tokens'];
}

export function serviceAccountStrategy(issuing: TokenIssuing): Strategy {
  const strategy = withSubresources({
    token: {
      create: async ({ namespace, name, body, res }) => {
        const outcome = await createTokenRequest({
          namespace: namespace ?? '',
          serviceAccountName: name,
          body,
          lookup: issuing.lookup,
          signer: issuing.signer,
          config: issuing.config,
        });
        if (!outcome.ok) throw outcome.error;
        if (outcome.warnings.length > 0) {
          res.setHeader(
            'Warning',
            outcome.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
          );
        }
        return { code: 201, body: outcome.tokenRequest };
      },
    },
  });
  // A deleted ServiceAccount is answered with itself, as Kubernetes does.
  return { ...strategy, returnsDeletedObject: true };
}
