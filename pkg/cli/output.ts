// Output helpers shared by coxctl's commands: kubectl-style aligned columns (tabwriter with
// a padding of 3), YAML/JSON/name printing of objects.

import yaml from 'js-yaml';
import type { KubeObject } from '../api/meta.js';
import { qualifiedKindName, resolveResource } from '../api/registry.js';

/** Aligns rows into columns separated by at least three spaces, as kubectl prints them. */
export function formatColumns(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

/** kubectl hides managedFields unless asked. */
function forDisplay(obj: KubeObject): KubeObject {
  if (obj.metadata.managedFields === undefined) return obj;
  const copy = { ...obj, metadata: { ...obj.metadata } };
  delete copy.metadata.managedFields;
  return copy;
}

export function toYaml(value: unknown): string {
  return yaml.dump(value, { sortKeys: true, noRefs: true, lineWidth: -1 });
}

export type OutputFormat = 'yaml' | 'json' | 'name';

/** Prints objects in a machine format; several objects become a `kind: List`. */
export function renderObjects(objects: KubeObject[], format: OutputFormat, asList: boolean): string {
  const shown = objects.map(forDisplay);
  if (format === 'name') return shown.map(nameOf).join('\n') + (shown.length > 0 ? '\n' : '');
  const value =
    asList || shown.length !== 1
      ? { apiVersion: 'v1', items: shown, kind: 'List', metadata: { resourceVersion: '' } }
      : shown[0];
  return format === 'json' ? JSON.stringify(value, null, 4) + '\n' : toYaml(value);
}

/** `deployment.apps/web`. */
export function nameOf(obj: KubeObject): string {
  const r = resolveResource(obj.kind);
  return `${r ? qualifiedKindName(r) : obj.kind.toLowerCase()}/${obj.metadata.name ?? ''}`;
}
