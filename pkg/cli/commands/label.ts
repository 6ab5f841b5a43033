// coxctl label / annotate: `KEY=VAL` sets, `KEY-` removes, on TYPE NAME..., TYPE/NAME...,
// or every object of a type matching -l / --all. Like kubectl, changing an existing value
// needs --overwrite, a no-op prints `not labeled`, and the change is sent as a JSON merge
// patch of only the changed keys of metadata.labels (or annotations).

import type { KubeObject } from '../../api/meta.js';
import { deepCopy } from '../../api/meta.js';
import type { ResourceInfo } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { nameOf, renderObjects } from '../output.js';
import { parseDryRun, type OutputFlags } from './create-generators.js';
import { listSelected, parseTargets } from './targets.js';

export type MetadataField = 'labels' | 'annotations';

export interface MetadataChanges {
  set: Record<string, string>;
  remove: string[];
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Whether an argument is a change (KEY=VAL or KEY-) rather than a resource or a name. */
export function isChangeArg(arg: string): boolean {
  return arg.includes('=') || (arg.endsWith('-') && !arg.includes('/'));
}

/** Parses KEY=VAL and KEY- arguments with kubectl's checks and messages. */
export function parseChanges(args: string[], field: MetadataField): MetadataChanges {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  const what = field === 'labels' ? 'label' : 'annotation';
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      const key = arg.slice(0, eq);
      const value = arg.slice(eq + 1);
      if (key === '') throw new CliError(`invalid ${what} spec: ${arg}`);
      if (field === 'labels') {
        if (value.includes('=')) throw new CliError(`invalid label spec: ${arg}`);
        if (value.length > 63 || !LABEL_VALUE.test(value))
          throw new CliError(
            `invalid label value: "${arg}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
          );
      }
      set[key] = value;
    } else if (arg.endsWith('-') && arg.length > 1) remove.push(arg.slice(0, -1));
    else throw new CliError(`invalid ${what} spec: ${arg}`);
  }
  if (remove.some((k) => k in set))
    throw new CliError(
      `can not both modify and remove ${field === 'labels' ? 'a label' : 'an annotation'} in the same command`,
    );
  if (Object.keys(set).length === 0 && remove.length === 0)
    throw new CliError(`at least one ${what} update is required`);
  return { set, remove };
}

/** The new map, or an error when a value would change without --overwrite. */
export function applyChanges(
  current: Record<string, string>,
  changes: MetadataChanges,
  options: { field: MetadataField; overwrite: boolean },
): { result: Record<string, string>; missing: string[] } {
  const clashes = Object.entries(changes.set).filter(([k, v]) => k in current && current[k] !== v);
  if (!options.overwrite && clashes.length > 0) {
    const [key] = clashes[0] ?? ['', ''];
    if (options.field === 'labels')
      throw new CliError(`'${key}' already has a value (${current[key] ?? ''}), and --overwrite is false`);
    throw new CliError(
      `--overwrite is false but found the following declared annotation(s): ${clashes
        .map(([k]) => `'${k}' already has a value (${current[k] ?? ''})`)
        .join('; ')}`,
    );
  }
  const result = { ...current, ...changes.set };
  const missing: string[] = [];
  for (const key of changes.remove) {
    if (key in result) Reflect.deleteProperty(result, key);
    else missing.push(key);
  }
  return { result, missing };
}

export interface LabelFlags extends OutputFlags {
  overwrite?: boolean;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

async function objectsToChange(
  ctx: CliContext,
  args: string[],
  flags: LabelFlags,
): Promise<{ resource: ResourceInfo; object: KubeObject }[]> {
  const targets = parseTargets(args);
  const out: { resource: ResourceInfo; object: KubeObject }[] = [];
  const client = ctx.client();
  for (const t of targets) {
    const namespace = t.resource.namespaced ? (flags.allNamespaces ? undefined : ctx.namespace()) : undefined;
    if (t.names !== undefined) {
      if (flags.selector !== undefined || flags.all)
        throw new CliError('name cannot be provided when a selector is specified');
      for (const name of t.names)
        out.push({ resource: t.resource, object: await client.get(t.resource, name, { namespace }) });
      continue;
    }
    const selected = await listSelected(client, t.resource, {
      namespace,
      selector: flags.selector,
      all: flags.all === true,
    });
    for (const object of selected) out.push({ resource: t.resource, object });
  }
  return out;
}

/** label and annotate: one implementation, the field and the words differ. */
export async function runMetadataChange(
  ctx: CliContext,
  command: { field: MetadataField; args: string[] },
  flags: LabelFlags,
): Promise<void> {
  const { field } = command;
  const resourceArgs = command.args.filter((a) => !isChangeArg(a));
  const changes = parseChanges(
    command.args.filter((a) => isChangeArg(a)),
    field,
  );
  const dryRun = parseDryRun(flags.dryRun);
  if (resourceArgs.length === 0)
    throw new CliError('one or more resources must be specified as <resource> <name> or <resource>/<name>');
  const targets = await objectsToChange(ctx, resourceArgs, flags);
  const client = ctx.client();
  for (const { resource, object } of targets) {
    const current = object.metadata[field] ?? {};
    const { result, missing } = applyChanges(current, changes, { field, overwrite: flags.overwrite === true });
    for (const key of missing) ctx.out(`${field === 'labels' ? 'label' : 'annotation'} "${key}" not found.`);
    const changed = !sameMap(current, result);
    let shown = object;
    if (changed && dryRun !== 'client') {
      // A merge patch of just the changed keys (null removes one), as kubectl sends it.
      const patch: Record<string, string | null> = { ...changes.set };
      for (const key of changes.remove) if (key in current) patch[key] = null;
      shown = await client.patch(resource, object.metadata.name ?? '', {
        type: 'merge',
        body: { metadata: { [field]: patch } },
        namespace: object.metadata.namespace,
        fieldManager: field === 'labels' ? 'kubectl-label' : 'kubectl-annotate',
        dryRun: dryRun === 'server',
      });
    } else if (changed) {
      shown = deepCopy(object);
      shown.metadata[field] = result;
    }
    if (flags.output === 'yaml' || flags.output === 'json' || flags.output === 'name') {
      ctx.io.stdout(renderObjects([shown], flags.output, false));
      continue;
    }
    const word =
      field === 'annotations'
        ? 'annotated'
        : !changed
          ? 'not labeled'
          : Object.keys(changes.set).length === 0
            ? 'unlabeled'
            : 'labeled';
    const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
    ctx.out(`${nameOf(shown)} ${word}${suffix}`);
  }
}
