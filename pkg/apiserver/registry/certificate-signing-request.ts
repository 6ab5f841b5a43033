// CertificateSigningRequests: the server records who asked (spec.username and groups,
// whatever was sent), and approval, like status, writes only the status (its conditions).

import { isObject } from '../../api/meta.js';
import { defaultStrategy, STATUS_SUBRESOURCE } from './default.js';
import type { Strategy } from './types.js';

export const csrStrategy: Strategy = {
  ...defaultStrategy,
  fromRequester(csr, user) {
    const spec = isObject(csr['spec']) ? csr['spec'] : {};
    spec['username'] = user.name;
    spec['groups'] = user.groups;
    delete spec['uid'];
    csr['spec'] = spec;
  },
  subresources: { ...defaultStrategy.subresources, approval: STATUS_SUBRESOURCE },
};
