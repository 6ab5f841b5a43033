// coxctl token create|list|delete: bootstrap tokens for joining nodes (kubeadm token).
// `create` prints the command that joins a new host: the agent, the server, the token and
// the hash of the cluster CA's public key, which the new host pins.

import { rfc3339 } from '../../api/meta.js';
import { humanDuration } from '../../printers/index.js';
import {
  BOOTSTRAP_TOKEN_PATTERN,
  bootstrapTokenSecret,
  bootstrapTokenSecretName,
  generateBootstrapToken,
  parseBootstrapTokenSecret,
} from '../../bootstrap/index.js';
import { parseDurationSeconds } from '../../api/duration.js';
import { RESOURCES } from '../../api/registry.js';
import { caPublicKeyHash } from '../../pki/index.js';
import type { CliContext } from '../context.js';
import { formatColumns } from '../output.js';

const SECRETS = RESOURCES.secrets;

/** The shell command a new host runs to join (the agent binary from package.json's bin). */
export function joinCommand(server: string, token: string, caHash: string): string {
  return `coxswain-kubelet --server ${server} --token ${token} --discovery-token-ca-cert-hash ${caHash}`;
}

export async function runTokenCreate(
  ctx: CliContext,
  flags: { ttl: string; description?: string; printJoinCommand?: boolean },
): Promise<void> {
  const ttl = parseDurationSeconds(flags.ttl);
  if (ttl === undefined) throw new Error(`error: --ttl: "${flags.ttl}" is not a duration (e.g. 30m, 24h, 0 for never)`);
  const config = ctx.clientConfig();
  if (config.caPem === undefined)
    throw new Error('error: the kubeconfig has no certificate authority; a join command needs its hash');
  const { id, secret, token } = generateBootstrapToken();
  await ctx
    .client()
    .create(
      SECRETS,
      bootstrapTokenSecret(id, secret, { ttlSeconds: ttl, description: flags.description ?? 'coxctl token create' }),
      { namespace: 'kube-system' },
    );
  ctx.out(flags.printJoinCommand === false ? token : joinCommand(config.server, token, caPublicKeyHash(config.caPem)));
}

export async function runTokenList(ctx: CliContext): Promise<void> {
  const list = await ctx
    .client()
    .list(SECRETS, { namespace: 'kube-system', fieldSelector: 'type=bootstrap.kubernetes.io/token' });
  const now = Date.now();
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const item of list.items) {
    const t = parseBootstrapTokenSecret(item);
    if (t === undefined) continue;
    const ttl =
      t.expiration === undefined
        ? '<forever>'
        : t.expiration.getTime() <= now
          ? '<invalid>'
          : humanDuration(t.expiration.getTime() - now);
    const usages = t.usages.map((u) => (u === 'authentication' ? 'authentication' : 'signing')).join(',');
    rows.push([
      `${t.id}.${t.secret}`,
      ttl,
      t.expiration ? rfc3339(t.expiration) : '<never>',
      usages,
      t.description || '<none>',
      t.extraGroups.join(','),
    ]);
  }
  if (rows.length === 1) {
    ctx.err('No bootstrap tokens found.\n');
    return;
  }
  ctx.out(formatColumns(rows).trimEnd());
}

export async function runTokenDelete(ctx: CliContext, tokens: string[]): Promise<void> {
  for (const t of tokens) {
    const id = BOOTSTRAP_TOKEN_PATTERN.exec(t)?.[1] ?? (/^[a-z0-9]{6}$/.test(t) ? t : undefined);
    if (id === undefined) throw new Error(`error: "${t}" is neither a token ID nor a token`);
    await ctx.client().delete(SECRETS, bootstrapTokenSecretName(id), { namespace: 'kube-system' });
    ctx.out(`bootstrap token "${id}" deleted`);
  }
}
