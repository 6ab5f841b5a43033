// coxctl wait: until objects are deleted (--for=delete), have a condition
// (--for=condition=Ready[=true]) or a field value (--for=jsonpath='{.status.phase}'=Running),
// or until --timeout (default 30s) passes: kubectl's `condition met` lines and its
// `timed out waiting for the condition on deployments/web` error.

import type { KubeObject } from '../../api/meta.js';
import { isObject } from '../../api/meta.js';
import { parseDurationSeconds } from '../../api/duration.js';
import { parseFieldPath, readFieldPath } from '../../api/field-path.js';
import type { ResourceInfo } from '../../api/registry.js';
import { isNotFound } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';
import { nameOf } from '../output.js';
import { listSelected, parseTargets } from './targets.js';

export type WaitFor =
  | { kind: 'delete' }
  | { kind: 'condition'; type: string; status: string }
  | { kind: 'jsonpath'; path: string; value: string | undefined };

const JSONPATH_FORMAT =
  "jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'";

/** Parses --for as kubectl does. */
export function parseWaitFor(text: string | undefined): WaitFor {
  if (text === undefined || text === '') throw new CliError('--for must be specified');
  if (text.toLowerCase() === 'delete') return { kind: 'delete' };
  if (text.startsWith('condition=')) {
    const rest = text.slice('condition='.length);
    const eq = rest.indexOf('=');
    const type = eq < 0 ? rest : rest.slice(0, eq);
    if (type === '') throw new CliError(`unrecognized condition: "${text}"`);
    return { kind: 'condition', type, status: eq < 0 ? 'true' : rest.slice(eq + 1) };
  }
  if (text.startsWith('jsonpath=')) {
    const rest = text.slice('jsonpath='.length);
    const close = rest.startsWith('{') ? rest.indexOf('}') : -1;
    let path: string;
    let value: string | undefined;
    if (close >= 0) {
      path = rest.slice(0, close + 1);
      const after = rest.slice(close + 1);
      if (after !== '' && !after.startsWith('=')) throw new CliError(JSONPATH_FORMAT);
      value = after === '' ? undefined : after.slice(1);
    } else {
      const eq = rest.indexOf('=');
      path = eq < 0 ? rest : rest.slice(0, eq);
      value = eq < 0 ? undefined : rest.slice(eq + 1);
    }
    if (parseFieldPath(path) === undefined || value === '') throw new CliError(JSONPATH_FORMAT);
    return { kind: 'jsonpath', path, value };
  }
  throw new CliError(`unrecognized condition: "${text}"`);
}

/** Whether a live object satisfies a condition or jsonpath wait. */
export function conditionMet(obj: KubeObject, waitFor: WaitFor): boolean {
  if (waitFor.kind === 'delete') return false;
  if (waitFor.kind === 'jsonpath') {
    const value = readFieldPath(obj, waitFor.path);
    if (value === undefined) return false;
    if (waitFor.value === undefined) return true;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text === waitFor.value;
  }
  const status = isObject(obj['status']) ? obj['status'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
  return conditions.some(
    (c: unknown) =>
      isObject(c) &&
      typeof c['type'] === 'string' &&
      c['type'].toLowerCase() === waitFor.type.toLowerCase() &&
      String(c['status']).toLowerCase() === waitFor.status.toLowerCase(),
  );
}

export interface WaitFlags {
  for?: string;
  timeout?: string;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
}

/** How often the objects are read again while waiting. */
const POLL_MS = 500;

function timeoutMs(text: string | undefined): number {
  if (text === undefined) return 30_000;
  const seconds = parseDurationSeconds(text.replace(/^-/, ''));
  if (seconds === undefined) throw new CliError(`invalid argument "${text}" for "--timeout" flag`);
  // A negative timeout means a week, as kubectl reads it.
  return text.startsWith('-') ? 7 * 24 * 3600_000 : seconds * 1000;
}

interface Watched {
  resource: ResourceInfo;
  name: string;
  namespace: string | undefined;
}

async function objectsToWait(ctx: CliContext, args: string[], flags: WaitFlags): Promise<Watched[]> {
  const out: Watched[] = [];
  const client = ctx.client();
  for (const t of parseTargets(args)) {
    const namespace = t.resource.namespaced ? (flags.allNamespaces ? undefined : ctx.namespace()) : undefined;
    if (t.names !== undefined) {
      for (const name of t.names) out.push({ resource: t.resource, name, namespace });
      continue;
    }
    const selected = await listSelected(client, t.resource, {
      namespace,
      selector: flags.selector,
      all: flags.all === true,
    });
    for (const item of selected)
      out.push({ resource: t.resource, name: item.metadata.name ?? '', namespace: item.metadata.namespace });
  }
  if (out.length === 0) throw new CliError('no matching resources found');
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runWait(ctx: CliContext, args: string[], flags: WaitFlags): Promise<void> {
  const waitFor = parseWaitFor(flags.for);
  const deadline = Date.now() + timeoutMs(flags.timeout);
  const client = ctx.client();
  const targets = await objectsToWait(ctx, args, flags);
  const failures: string[] = [];
  for (const t of targets) {
    let seen: KubeObject | undefined;
    for (;;) {
      let obj: KubeObject | undefined;
      try {
        obj = await client.get(t.resource, t.name, { namespace: t.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Gone: what --for=delete waits for; for anything else the NotFound is the answer.
        if (waitFor.kind !== 'delete') throw err;
      }
      if (obj === undefined) {
        if (seen !== undefined) ctx.out(`${nameOf(seen)} condition met`);
        break;
      }
      seen = obj;
      if (conditionMet(obj, waitFor)) {
        ctx.out(`${nameOf(obj)} condition met`);
        break;
      }
      if (Date.now() >= deadline) {
        failures.push(`timed out waiting for the condition on ${t.resource.plural}/${t.name}`);
        break;
      }
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }
  const [last] = failures.slice(-1);
  if (last === undefined) return;
  for (const f of failures.slice(0, -1)) ctx.err(`error: ${f}`);
  throw new CliError(last);
}
