// kubectl's describer for kinds without their own: name, namespace, labels, annotations,
// then every other field sorted, with readable titles (`ownerReferences` → `Owner References`).

import { isObject, type KubeObject } from '../../api/meta.js';
import type { Event } from '../../api/types/index.js';
import { printAnnotations, printEvents, printLabels } from './common.js';
import { LEVEL_0, PrefixWriter } from './prefix-writer.js';

const ACRONYMS = new Set(['API', 'URL', 'UID', 'GUID']);
const SKIPPED = new Set([
  '.metadata.managedFields',
  '.metadata.name',
  '.metadata.namespace',
  '.metadata.labels',
  '.metadata.annotations',
]);
/** Nesting kubectl would print is bounded here so a hostile object cannot recurse without end. */
const MAX_DEPTH = 32;

/** kubectl's smartLabelFor: split camelCase into title-cased words, acronyms upper-cased. */
export function smartLabel(field: string): string {
  if (!/^[A-Za-z-]+$/.test(field)) return field;
  const parts = field.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[A-Z]+|-+/g) ?? [field];
  return parts
    .filter((p) => p !== '_')
    .map((p) => {
      if (ACRONYMS.has(p.toUpperCase())) return p.toUpperCase();
      return p === p.toLowerCase() ? p.charAt(0).toUpperCase() + p.slice(1) : p;
    })
    .join(' ');
}

function scalarText(value: unknown): string {
  if (value === null) return '<nil>';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function printContent(w: PrefixWriter, content: Record<string, unknown>, at: { level: number; path: string }): void {
  if (at.level > MAX_DEPTH) return;
  for (const field of Object.keys(content).sort()) {
    const path = `${at.path}.${field}`;
    if (SKIPPED.has(path)) continue;
    const value = content[field];
    if (isObject(value)) {
      w.write(at.level, `${smartLabel(field)}:\n`);
      printContent(w, value, { level: at.level + 1, path });
    } else if (Array.isArray(value)) {
      w.write(at.level, `${smartLabel(field)}:\n`);
      for (const item of value) {
        if (isObject(item)) printContent(w, item, { level: at.level + 1, path });
        else w.write(at.level + 1, `${scalarText(item)}\n`);
      }
    } else w.write(at.level, `${smartLabel(field)}:\t${scalarText(value)}\n`);
  }
}

export function describeGeneric(obj: KubeObject, related: { events: readonly Event[] | undefined }, now: Date): string {
  const w = new PrefixWriter();
  w.write(LEVEL_0, `Name:\t${obj.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${obj.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', obj.metadata.labels);
  printAnnotations(w, 'Annotations', obj.metadata.annotations);
  printContent(w, obj, { level: LEVEL_0, path: '' });
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}
