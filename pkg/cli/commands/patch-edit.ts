// coxctl patch (strategic, merge or JSON patch from -p) and edit (the object in
// $KUBE_EDITOR / $EDITOR; saved changes are sent as a patch; a refused change reopens the
// file with the server's reasons in comments at the top, as kubectl does; saving the same
// refused text again gives up with a copy of it kept).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { KubeObject } from '../../api/meta.js';
import { isObject } from '../../api/meta.js';
import { createMergePatch, createThreeWayStrategicMergePatch } from '../../api/patch/index.js';
import type { ResourceInfo } from '../../api/registry.js';
import { ApiError, errorMessage } from '../../errors/index.js';
import type { PatchType } from '../../client/index.js';
import { CliError, type CliContext } from '../context.js';
import { nameOf, renderObjects } from '../output.js';
import { parseDryRun, type OutputFlags } from './create-generators.js';
import { parseTargets, type Target } from './targets.js';

export interface PatchFlags extends OutputFlags {
  patch?: string;
  type?: string;
  subresource?: string;
}

function patchType(value: string | undefined): Exclude<PatchType, 'apply'> {
  if (value === undefined || value === 'strategic' || value === 'merge' || value === 'json')
    return value ?? 'strategic';
  throw new CliError(`--type must be one of [json merge strategic], not "${value}"`);
}

/** -p as kubectl reads it: YAML or JSON; text that does not parse goes as it is, and the server answers. */
export function patchBody(text: string): unknown {
  try {
    const parsed: unknown = yaml.load(text, { schema: yaml.JSON_SCHEMA });
    return parsed === undefined ? text : JSON.stringify(parsed);
  } catch {
    return text;
  }
}

/** One TYPE NAME or TYPE/NAME; kubectl's message otherwise. */
export function singleTarget(args: string[], verb: string): { target: Target; name: string } {
  const targets = parseTargets(args);
  const [target] = targets;
  const names = targets.flatMap((t) => t.names ?? []);
  const [name] = names;
  if (target === undefined || name === undefined)
    throw new CliError(`resource(s) were provided, but no name was specified`);
  if (names.length > 1 && verb === 'patch') throw new CliError('patch works on one object at a time');
  return { target, name };
}

export async function runPatch(ctx: CliContext, args: string[], flags: PatchFlags): Promise<void> {
  const type = patchType(flags.type);
  if (flags.patch === undefined || flags.patch === '') throw new CliError('must specify -p to patch');
  const dryRun = parseDryRun(flags.dryRun);
  if (dryRun === 'client') throw new CliError("--dry-run=client doesn't work with patch; use --dry-run=server");
  const { target, name } = singleTarget(args, 'patch');
  const namespace = target.resource.namespaced ? ctx.namespace() : undefined;
  const client = ctx.client();
  const before = await client.get(target.resource, name, { namespace });
  const after = await client.patch(target.resource, name, {
    type,
    body: patchBody(flags.patch),
    namespace,
    fieldManager: 'kubectl-patch',
    dryRun: dryRun === 'server',
    ...(flags.subresource !== undefined ? { subresource: flags.subresource } : {}),
  });
  if (flags.output === 'yaml' || flags.output === 'json' || flags.output === 'name') {
    ctx.io.stdout(renderObjects([after], flags.output, false));
    return;
  }
  const unchanged = before.metadata.resourceVersion === after.metadata.resourceVersion;
  const suffix = dryRun === 'server' ? ' (server dry run)' : unchanged ? ' (no change)' : '';
  ctx.out(`${nameOf(after)} patched${suffix}`);
}

const EDIT_HEADER = [
  "# Please edit the object below. Lines beginning with a '#' will be ignored,",
  '# and an empty file will abort the edit. If an error occurs while saving this file will be',
  '# reopened with the relevant failures.',
  '#',
];

/** The text without comment lines, as kubectl compares and parses it. */
export function withoutComments(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .trim();
}

/** The lines kubectl puts above the object when the last save was refused. */
export function failureComment(what: string, err: unknown): string[] {
  if (err instanceof ApiError && err.reason === 'Invalid') {
    const causes = err.details?.causes ?? [];
    return [
      `# ${what} was not valid:`,
      ...(causes.length > 0
        ? causes.map((c) => `# * ${c.field ?? '<nil>'}: ${c.message ?? ''}`)
        : [`# * ${err.message}`]),
      '#',
    ];
  }
  return [
    '# The edited file had an error:',
    ...errorMessage(err)
      .split('\n')
      .map((l) => `# ${l}`),
    '#',
  ];
}

function editorCommand(): string {
  for (const name of ['KUBE_EDITOR', 'EDITOR']) {
    const value = process.env[name];
    if (value !== undefined && value.trim() !== '') return value;
  }
  return 'vi';
}

/** Opens the file in the editor (through the shell, so `EDITOR="code --wait"` works). */
function openEditor(file: string): void {
  const result = spawnSync('/bin/sh', ['-c', `${editorCommand()} "$1"`, 'editor', file], { stdio: 'inherit' });
  if (result.error !== undefined) throw new CliError(`there was a problem with the editor "${editorCommand()}"`);
  if (result.status !== 0) throw new CliError(`there was a problem with the editor "${editorCommand()}"`);
}

function parseEdited(text: string): KubeObject {
  const value: unknown = yaml.load(text, { schema: yaml.JSON_SCHEMA });
  if (!isObject(value) || !isObject(value['metadata']))
    throw new Error('the edited object must be a mapping with metadata');
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error('apiVersion and kind must be set');
  return { ...value, apiVersion, kind, metadata };
}

/** The patch from the live object to the edited one: strategic for built-in kinds, merge for custom ones. */
function editPatch(r: ResourceInfo, live: KubeObject, edited: KubeObject): { type: PatchType; body: unknown } {
  if (edited.apiVersion !== live.apiVersion || edited.kind !== live.kind || edited.metadata.name !== live.metadata.name)
    throw new Error('apiVersion, kind and name cannot be changed by edit');
  if (r.custom !== undefined) return { type: 'merge', body: createMergePatch(live, edited) };
  return {
    type: 'strategic',
    body: createThreeWayStrategicMergePatch({ original: live, modified: edited, current: live }, r),
  };
}

/** At most this many rounds of editing one object (each refused save reopens the file). */
const MAX_EDIT_ROUNDS = 20;

export async function runEdit(ctx: CliContext, args: string[], flags: { output?: string }): Promise<void> {
  const { target, name } = singleTarget(args, 'edit');
  const r = target.resource;
  const namespace = r.namespaced ? ctx.namespace() : undefined;
  const client = ctx.client();
  const live = await client.get(r, name, { namespace });
  const shown = renderObjects([live], 'yaml', false);
  const dir = mkdtempSync(join(tmpdir(), 'coxctl-edit-'));
  const file = join(dir, `${r.plural}-${name}.yaml`);
  const what = `${r.group ? `${r.plural}.${r.group}` : r.plural} "${name}"`;
  let notes: string[] = [];
  let lastRefused: string | undefined;
  try {
    for (let round = 0; round < MAX_EDIT_ROUNDS; round++) {
      writeFileSync(file, [...EDIT_HEADER, ...notes, ''].join('\n') + (lastRefused ?? shown));
      openEditor(file);
      const saved = readFileSync(file, 'utf8');
      const body = withoutComments(saved);
      if (body === '') {
        ctx.err('Edit cancelled, saved file was empty.');
        return;
      }
      if (lastRefused === undefined && body === withoutComments(shown)) {
        ctx.err('Edit cancelled, no changes made.');
        return;
      }
      if (lastRefused !== undefined && body === withoutComments(lastRefused)) {
        const copy = join(tmpdir(), `coxctl-edit-${process.pid}-${Date.now()}.yaml`);
        writeFileSync(copy, saved);
        ctx.err(`A copy of your changes has been stored to "${copy}"`);
        throw new CliError('Edit cancelled, no valid changes were saved.');
      }
      try {
        const patch = editPatch(r, live, parseEdited(body));
        const after = await client.patch(r, name, {
          ...patch,
          namespace,
          fieldManager: 'kubectl-edit',
        });
        if (flags.output === 'yaml' || flags.output === 'json' || flags.output === 'name')
          ctx.io.stdout(renderObjects([after], flags.output, false));
        else ctx.out(`${nameOf(after)} edited`);
        return;
      } catch (err) {
        if (err instanceof ApiError && err.reason !== 'Invalid' && err.reason !== 'BadRequest') throw err;
        ctx.err(err instanceof ApiError ? `error: ${what} is invalid` : `error: ${errorMessage(err)}`);
        notes = failureComment(what, err);
        lastRefused = body + '\n';
      }
    }
    throw new CliError('Edit cancelled: too many attempts');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
