// coxctl config view|current-context|use-context|get-contexts on the kubeconfig file
// (--kubeconfig, else the first $KUBECONFIG file, else ~/.kube/config). `view` hides
// credentials as kubectl does (DATA+OMITTED, REDACTED) unless --raw; --minify keeps only
// what the current context uses.

import { readFileSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { isObject } from '../../api/meta.js';
import { kubeconfigPath } from '../../client/index.js';
import { errorMessage } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns, toYaml } from '../output.js';

type Doc = Record<string, unknown>;

function pathOf(ctx: CliContext): string {
  return kubeconfigPath(ctx.kubeconfigFlag());
}

function readDoc(path: string): Doc {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // kubectl treats a missing file as an empty config.
    return {};
  }
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.JSON_SCHEMA });
  } catch (err) {
    throw new CliError(`error loading config file "${path}": ${errorMessage(err).split('\n')[0] ?? ''}`);
  }
  if (doc === undefined || doc === null) return {};
  if (!isObject(doc)) throw new CliError(`error loading config file "${path}": not a mapping`);
  return doc;
}

function entries(doc: Doc, list: 'clusters' | 'contexts' | 'users'): Record<string, unknown>[] {
  const value = doc[list];
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function body(entry: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = entry[key];
  return isObject(value) ? value : {};
}

function currentContext(ctx: CliContext, doc: Doc): string {
  const explicit = ctx.contextFlag();
  if (explicit !== undefined && explicit !== '') return explicit;
  return typeof doc['current-context'] === 'string' ? doc['current-context'] : '';
}

export function runCurrentContext(ctx: CliContext): void {
  const name = currentContext(ctx, readDoc(pathOf(ctx)));
  if (name === '') throw new CliError('current-context is not set');
  ctx.out(name);
}

export function runUseContext(ctx: CliContext, name: string): void {
  const path = pathOf(ctx);
  const doc = readDoc(path);
  if (!entries(doc, 'contexts').some((c) => c['name'] === name))
    throw new CliError(`no context exists with the name: "${name}"`);
  doc['current-context'] = name;
  writeFileSync(path, toYaml(doc), { mode: 0o600 });
  ctx.out(`Switched to context "${name}".`);
}

export function runGetContexts(
  ctx: CliContext,
  name: string | undefined,
  flags: { output?: string; noHeaders?: boolean },
): void {
  const doc = readDoc(pathOf(ctx));
  const current = currentContext(ctx, doc);
  let contexts = entries(doc, 'contexts');
  if (name !== undefined) {
    contexts = contexts.filter((c) => c['name'] === name);
    if (contexts.length === 0) throw new CliError(`context ${name} not found`);
  }
  if (flags.output === 'name') {
    ctx.out(contexts.map((c) => String(c['name'] ?? '')).join('\n'));
    return;
  }
  if (flags.output !== undefined && flags.output !== '')
    throw new CliError(`output must be one of '' or 'name': ${flags.output}`);
  const rows = contexts
    .map((c) => {
      const b = body(c, 'context');
      const n = String(c['name'] ?? '');
      return [
        n === current ? '*' : '',
        n,
        String(b['cluster'] ?? ''),
        String(b['user'] ?? ''),
        String(b['namespace'] ?? ''),
      ];
    })
    .sort((a, b) => (a[1] ?? '').localeCompare(b[1] ?? ''));
  const header = ['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE'];
  ctx.out(formatColumns(flags.noHeaders ? rows : [header, ...rows]));
}

/** Credentials replaced as kubectl view shows them. */
export function redact(doc: Doc): Doc {
  const hide = (entry: Record<string, unknown>, key: string): Record<string, unknown> => {
    const inner = { ...body(entry, key) };
    for (const field of Object.keys(inner)) {
      if (field.endsWith('-data')) inner[field] = 'DATA+OMITTED';
      else if (field === 'token' || field === 'password') inner[field] = 'REDACTED';
    }
    return { ...entry, [key]: inner };
  };
  return {
    ...doc,
    clusters: entries(doc, 'clusters').map((c) => hide(c, 'cluster')),
    users: entries(doc, 'users').map((u) => hide(u, 'user')),
  };
}

/** Only the current context, its cluster and its user. */
export function minify(doc: Doc, current: string): Doc {
  const context = entries(doc, 'contexts').find((c) => c['name'] === current);
  if (context === undefined) throw new CliError(`cannot locate context ${current}`);
  const b = body(context, 'context');
  return {
    ...doc,
    'current-context': current,
    contexts: [context],
    clusters: entries(doc, 'clusters').filter((c) => c['name'] === b['cluster']),
    users: entries(doc, 'users').filter((u) => u['name'] === b['user']),
  };
}

export function runConfigView(ctx: CliContext, flags: { raw?: boolean; minify?: boolean; output?: string }): void {
  let doc: Doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [],
    contexts: [],
    users: [],
    ...readDoc(pathOf(ctx)),
  };
  if (doc['current-context'] === undefined) doc['current-context'] = '';
  if (flags.minify) doc = minify(doc, currentContext(ctx, doc));
  if (!flags.raw) doc = redact(doc);
  if (flags.output === 'json') ctx.out(JSON.stringify(doc, null, 4));
  else if (flags.output === undefined || flags.output === '' || flags.output === 'yaml') ctx.io.stdout(toYaml(doc));
  else
    throw new CliError(
      `unable to match a printer suitable for the output format "${flags.output}", allowed formats are: json,yaml`,
    );
}
