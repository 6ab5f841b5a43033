// coxctl describe: a readable summary of an object (identity, labels, annotations, then its
// spec and status as indented fields) followed by the Events that name it.

import { humanDuration } from '../../printers/index.js';
import { isObject, type KubeObject } from '../../api/meta.js';
import { findByPlural } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns } from '../output.js';
import { parseTargets } from './targets.js';

const PAD = 18;

function title(key: string): string {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function mapLines(label: string, map: Record<string, string> | undefined): string[] {
  const entries = Object.entries(map ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration');
  if (entries.length === 0) return [`${(label + ':').padEnd(PAD)}<none>`];
  return entries.map(([k, v], i) => `${(i === 0 ? label + ':' : '').padEnd(PAD)}${k}=${v}`);
}

/** Nested fields as `Key:  value` lines, two spaces of indent per level. */
function fieldLines(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (isObject(v) || (Array.isArray(v) && v.some((x) => isObject(x) || Array.isArray(x)))) {
        out.push(`${pad}${title(k)}:`);
        out.push(...fieldLines(v, indent + 2));
      } else if (Array.isArray(v)) {
        out.push(
          `${pad}${(title(k) + ':').padEnd(Math.max(PAD - indent, 1))}${v.length === 0 ? '<none>' : v.map(String).join(', ')}`,
        );
      } else out.push(`${pad}${(title(k) + ':').padEnd(Math.max(PAD - indent, 1))}${v === '' ? '<none>' : String(v)}`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (isObject(item) && typeof item['name'] === 'string') out.push(`${pad}${item['name']}:`);
      else out.push(`${pad}[${i}]:`);
      out.push(...fieldLines(item, indent + 2));
    });
  } else out.push(`${pad}${String(value)}`);
  return out;
}

export function describeObject(obj: KubeObject, events: KubeObject[], now: Date): string {
  const m = obj.metadata;
  const lines: string[] = [];
  lines.push(`${'Name:'.padEnd(PAD)}${m.name ?? ''}`);
  if (m.namespace !== undefined) lines.push(`${'Namespace:'.padEnd(PAD)}${m.namespace}`);
  lines.push(...mapLines('Labels', m.labels));
  lines.push(...mapLines('Annotations', m.annotations));
  lines.push(`${'CreationTimestamp:'.padEnd(PAD)}${m.creationTimestamp ?? ''}`);
  if (m.deletionTimestamp !== undefined) lines.push(`${'Terminating:'.padEnd(PAD)}since ${m.deletionTimestamp}`);
  const owner = m.ownerReferences?.find((o) => o.controller);
  if (owner) lines.push(`${'Controlled By:'.padEnd(PAD)}${owner.kind}/${owner.name}`);
  for (const part of ['spec', 'status', 'data', 'subsets', 'rules', 'roleRef', 'subjects'] as const) {
    const v = obj[part];
    if (v === undefined) continue;
    lines.push(`${title(part)}:`);
    lines.push(
      ...fieldLines(
        part === 'data' && obj.kind === 'Secret' && isObject(v)
          ? Object.fromEntries(
              Object.entries(v).map(([k, d]) => [k, `${Buffer.from(String(d), 'base64').length} bytes`]),
            )
          : v,
        2,
      ),
    );
  }
  if (events.length === 0) lines.push(`${'Events:'.padEnd(PAD)}<none>`);
  else {
    lines.push('Events:');
    const rows = [
      ['Type', 'Reason', 'Age', 'From', 'Message'],
      ['----', '------', '----', '----', '-------'],
    ];
    for (const e of events) {
      const last = String(e['lastTimestamp'] ?? e['eventTime'] ?? e.metadata.creationTimestamp ?? '');
      const source = isObject(e['source'])
        ? String(e['source']['component'] ?? '')
        : String(e['reportingComponent'] ?? '');
      rows.push([
        String(e['type'] ?? ''),
        String(e['reason'] ?? ''),
        last ? humanDuration(now.getTime() - Date.parse(last)) : '',
        source,
        String(e['message'] ?? ''),
      ]);
    }
    lines.push(
      formatColumns(rows)
        .split('\n')
        .map((l) => '  ' + l)
        .join('\n'),
    );
  }
  return lines.join('\n');
}

export async function runDescribe(ctx: CliContext, args: string[], flags: { selector?: string }): Promise<void> {
  const targets = parseTargets(args);
  const client = ctx.client();
  const events = findByPlural('', 'v1', 'events');
  if (events === undefined) throw new CliError('events are not served');
  const blocks: string[] = [];
  for (const t of targets) {
    const namespace = t.resource.namespaced ? ctx.namespace() : undefined;
    const objects =
      t.names !== undefined
        ? await Promise.all(t.names.map((n) => client.get(t.resource, n, { namespace })))
        : (
            await client.list(t.resource, {
              ...(namespace !== undefined ? { namespace } : {}),
              ...(flags.selector ? { labelSelector: flags.selector } : {}),
            })
          ).items;
    for (const obj of objects) {
      const fieldSelector = `involvedObject.name=${obj.metadata.name ?? ''},involvedObject.uid=${obj.metadata.uid ?? ''}`;
      const evs = await client.list(events, {
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        fieldSelector,
      });
      blocks.push(describeObject({ ...obj, kind: t.resource.kind }, evs.items, new Date()));
    }
  }
  if (blocks.length === 0) ctx.err(`No resources found in ${ctx.namespace()} namespace.`);
  else ctx.out(blocks.join('\n\n\n'));
}
