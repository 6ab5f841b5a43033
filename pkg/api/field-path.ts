// The simple JSONPath a CustomResourceDefinition names fields with (printer columns' jsonPath,
// the scale subresource's replica paths): `.spec.replicas`, `.status.conditions[0].type`,
// `.status.conditions[?(@.type=="Ready")].status`. Anything else is refused when the CRD is
// written, so reading one never fails.

import { isObject } from './meta.js';

type Step = { field: string } | { index: number } | { where: { field: string; equals: string } };

const STEP = /^(?:\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_$-]+)\s*==\s*(?:"([^"]*)"|'([^']*)')\)\])/;
const MAX_PATH_LENGTH = 512;

/** The steps of a path, or undefined when it is not one this server evaluates. */
export function parseFieldPath(path: string): Step[] | undefined {
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) return undefined;
  const steps: Step[] = [];
  let rest = path.startsWith('{') && path.endsWith('}') ? path.slice(1, -1) : path;
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (m === null) return undefined;
    if (m[1] !== undefined) steps.push({ field: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else steps.push({ where: { field: m[3] ?? '', equals: m[4] ?? m[5] ?? '' } });
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/** The value a path names in `obj` (undefined when absent or the path is not evaluable). */
export function readFieldPath(obj: unknown, path: string): unknown {
  const steps = parseFieldPath(path);
  if (steps === undefined) return undefined;
  let at: unknown = obj;
  for (const step of steps) {
    if ('field' in step) at = isObject(at) && Object.hasOwn(at, step.field) ? at[step.field] : undefined;
    else if ('index' in step) at = Array.isArray(at) ? at[step.index] : undefined;
    else {
      const { field, equals } = step.where;
      at = Array.isArray(at) ? at.find((item) => isObject(item) && String(item[field]) === equals) : undefined;
    }
    if (at === undefined) return undefined;
  }
  return at;
}

/**
 * Sets the value at a path of plain fields (`.spec.replicas`), creating objects on the way;
 * false when the path is not one of plain fields.
 */
export function writeFieldPath(obj: Record<string, unknown>, path: string, value: unknown): boolean {
  const steps = parseFieldPath(path);
  if (steps === undefined || steps.length === 0) return false;
  const fields: string[] = [];
  for (const s of steps) {
    if (!('field' in s)) return false;
    fields.push(s.field);
  }
  let at = obj;
  for (const f of fields.slice(0, -1)) {
    const next = at[f];
    if (isObject(next)) at = next;
    else {
      const created: Record<string, unknown> = {};
      at[f] = created;
      at = created;
    }
  }
  at[fields[fields.length - 1] ?? ''] = value;
  return true;
}
