// coxctl auth can-i VERB TYPE[/NAME] [NAME]: asks the apiserver with a
// SelfSubjectAccessReview (as whoever --as or the kubeconfig names) and prints kubectl's
// `yes` or `no[ - reason]`; the caller exits 1 on `no`. `/path` asks about a non-resource URL.

import { isObject } from '../../api/meta.js';
import { RESOURCES, resolveResource } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns } from '../output.js';

const KNOWN_VERBS = new Set([
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'use',
  'bind',
  'impersonate',
  'escalate',
  'approve',
  'sign',
  'proxy',
  '*',
]);

export interface CanIFlags {
  allNamespaces?: boolean;
  subresource?: string;
  quiet?: boolean;
}

export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  name: string;
}

/** VERB TYPE[/NAME] [NAME] as kubectl reads them; warnings for what the server does not know. */
export function accessQuestion(
  args: string[],
  warn: (line: string) => void,
): AccessQuestion | { verb: string; path: string } {
  const [verb, what, nameArg, ...extra] = args;
  if (verb === undefined || what === undefined || extra.length > 0)
    throw new CliError('you must specify two or three arguments: verb, resource, and optional resourceName');
  if (!KNOWN_VERBS.has(verb)) warn(`Warning: verb '${verb}' is not a known verb\n`);
  if (what.startsWith('/')) return { verb, path: what };
  const slash = what.indexOf('/');
  let type = slash < 0 ? what : what.slice(0, slash);
  let subresource = '';
  let name = nameArg ?? '';
  if (slash >= 0) {
    // pods/log is a subresource; pod/web is a name.
    const rest = what.slice(slash + 1);
    const r = resolveResource(type);
    if (r !== undefined && r.subresources.some((s) => s.name === rest) && type === r.plural) subresource = rest;
    else name = rest;
  }
  if (type === '*') return { verb, group: '*', resource: '*', subresource, name };
  const r = resolveResource(type);
  if (r === undefined) {
    warn(`Warning: the server doesn't have a resource type '${type}'\n\n`);
    const dot = type.indexOf('.');
    const group = dot < 0 ? '' : type.slice(dot + 1);
    type = dot < 0 ? type : type.slice(0, dot);
    return { verb, group, resource: type, subresource, name };
  }
  return { verb, group: r.group, resource: r.plural, subresource, name };
}

/** Prints the answer; resolves whether the action is allowed. */
export async function runCanI(ctx: CliContext, args: string[], flags: CanIFlags): Promise<boolean> {
  const question = accessQuestion(args, (line) => ctx.io.stderr(line));
  const spec =
    'path' in question
      ? { nonResourceAttributes: { path: question.path, verb: question.verb } }
      : {
          resourceAttributes: {
            namespace: flags.allNamespaces ? '' : ctx.namespace(),
            verb: question.verb,
            group: question.group,
            resource: question.resource,
            subresource: flags.subresource ?? question.subresource,
            name: question.name,
          },
        };
  const review = await ctx.client().create(RESOURCES.selfsubjectaccessreviews, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec,
  });
  const status = isObject(review['status']) ? review['status'] : {};
  const allowed = status['allowed'] === true;
  if (flags.quiet) return allowed;
  if (allowed) ctx.out('yes');
  else {
    const reason = typeof status['reason'] === 'string' && status['reason'] !== '' ? ` - ${status['reason']}` : '';
    const evaluation =
      typeof status['evaluationError'] === 'string' && status['evaluationError'] !== ''
        ? ` - ${status['evaluationError']}`
        : '';
    ctx.out(`no${reason}${evaluation}`);
  }
  return allowed;
}

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** The rows of `auth can-i --list`: one per resource (RESOURCE.GROUP) and per non-resource URL. */
export function rulesTable(status: Record<string, unknown>): string[][] {
  const rows: string[][] = [];
  const bracket = (items: string[]): string => `[${items.join(' ')}]`;
  for (const rule of Array.isArray(status['resourceRules']) ? status['resourceRules'] : []) {
    if (!isObject(rule)) continue;
    const groups = list(rule['apiGroups']);
    for (const resource of list(rule['resources']))
      for (const group of groups.length > 0 ? groups : [''])
        rows.push([
          group === '' ? resource : `${resource}.${group}`,
          '[]',
          bracket(list(rule['resourceNames'])),
          bracket(list(rule['verbs'])),
        ]);
  }
  for (const rule of Array.isArray(status['nonResourceRules']) ? status['nonResourceRules'] : []) {
    if (!isObject(rule)) continue;
    for (const url of list(rule['nonResourceURLs'])) rows.push(['', `[${url}]`, '[]', bracket(list(rule['verbs']))]);
  }
  return rows;
}

/** auth can-i --list: what the identity may do in the namespace (a SelfSubjectRulesReview). */
export async function runCanIList(ctx: CliContext, flags: { noHeaders?: boolean }): Promise<void> {
  const review = await ctx.client().create(RESOURCES.selfsubjectrulesreviews, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    metadata: {},
    spec: { namespace: ctx.namespace() },
  });
  const status = isObject(review['status']) ? review['status'] : {};
  const rows = rulesTable(status);
  const header = ['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs'];
  ctx.out(formatColumns(flags.noHeaders ? rows : [header, ...rows]));
}
