// Turning `get`/`delete`/`describe` arguments into resources and names, as kubectl reads
// them: `pods`, `pod web`, `deploy,rs,po`, `deploy/web pod/x`, `all`.

import type { KubeObject } from '../../api/meta.js';
import { RESOURCES, resolveResource, type ResourceInfo } from '../../api/registry.js';
import type { RestClient } from '../../client/index.js';
import { CliError } from '../context.js';

export interface Target {
  resource: ResourceInfo;
  /** Undefined: every object of the type (filtered by selectors). */
  names: string[] | undefined;
}

function resolve(name: string): ResourceInfo[] {
  if (name === 'all') return RESOURCES.filter((r) => r.categories.includes('all'));
  const r = resolveResource(name);
  if (r === undefined) throw new CliError(`the server doesn't have a resource type "${name}"`);
  return [r];
}

export function parseTargets(args: string[]): Target[] {
  if (args.length === 0) throw new CliError('you must specify the type of resource to get');
  if (args.some((a) => a.includes('/'))) {
    const out: Target[] = [];
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash < 0)
        throw new CliError(
          `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'coxctl get resource/<resource_name>' instead of 'coxctl get resource resource/<resource_name>')`,
        );
      const [r] = resolve(arg.slice(0, slash));
      if (r === undefined) continue;
      const existing = out.find((t) => t.resource === r);
      if (existing?.names) existing.names.push(arg.slice(slash + 1));
      else out.push({ resource: r, names: [arg.slice(slash + 1)] });
    }
    return out;
  }
  const [types, ...names] = args;
  const resources = (types ?? '')
    .split(',')
    .filter((t) => t !== '')
    .flatMap(resolve);
  return resources.map((resource) => ({ resource, names: names.length > 0 ? names : undefined }));
}

/**
 * The objects of a target given without names, picked by `-l` or `--all` (kubectl refuses a
 * bare type for a verb that changes or waits on objects); each with its apiVersion and kind.
 */
export async function listSelected(
  client: RestClient,
  resource: ResourceInfo,
  opts: { namespace: string | undefined; selector: string | undefined; all: boolean },
): Promise<KubeObject[]> {
  if (opts.selector === undefined && !opts.all)
    throw new CliError('resource(s) were provided, but no name was specified');
  const list = await client.list(resource, {
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.selector !== undefined ? { labelSelector: opts.selector } : {}),
  });
  return list.items.map((item) => ({ ...item, apiVersion: list.apiVersion, kind: resource.kind }));
}
