// Smaller coxctl commands: scale, api-resources, version.

import { RESOURCES, apiVersionOf, qualifiedKindName } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns } from '../output.js';
import { parseTargets } from './targets.js';

export const CLIENT_VERSION = 'v0.1.0';

export async function runScale(ctx: CliContext, args: string[], flags: { replicas: string }): Promise<void> {
  const replicas = Number(flags.replicas);
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  for (const t of parseTargets(args)) {
    if (!t.resource.subresources.some((s) => s.name === 'scale'))
      throw new CliError(`${qualifiedKindName(t.resource)} cannot be scaled`);
    if (t.names === undefined) throw new CliError('resource(s) were provided, but no name was specified');
    for (const name of t.names) {
      await ctx.client().patch(t.resource, name, {
        type: 'merge',
        body: { spec: { replicas } },
        ...(t.resource.namespaced ? { namespace: ctx.namespace() } : {}),
        subresource: 'scale',
      });
      ctx.out(`${qualifiedKindName(t.resource)}/${name} scaled`);
    }
  }
}

export function runApiResources(ctx: CliContext, flags: { output?: string }): void {
  const wide = flags.output === 'wide';
  const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'CATEGORIES'] : [])];
  const rows = [...RESOURCES]
    .sort((a, b) => a.group.localeCompare(b.group) || a.plural.localeCompare(b.plural))
    .map((r) => [
      r.plural,
      r.shortNames.join(','),
      apiVersionOf(r),
      String(r.namespaced),
      r.kind,
      ...(wide ? [`[${r.verbs.join(' ')}]`, r.categories.join(',')] : []),
    ]);
  if (flags.output === 'name')
    ctx.out(RESOURCES.map((r) => (r.group ? `${r.plural}.${r.group}` : r.plural)).join('\n'));
  else ctx.out(formatColumns([header, ...rows]));
}

export async function runVersion(ctx: CliContext, flags: { client?: boolean }): Promise<void> {
  ctx.out(`Client Version: ${CLIENT_VERSION}`);
  if (flags.client) return;
  const v = await ctx.client().requestJson<{ gitVersion?: string }>({ method: 'GET', path: '/version' });
  ctx.out(`Server Version: ${v.gitVersion ?? 'unknown'}`);
}
