// Status writes are skipped when nothing changed: controllers compare the counters they
// computed with those stored.

/** Whether any counter in `next` differs from `old` (a missing one counts as 0). */
export function countersChanged(old: object | undefined, next: Record<string, number>): boolean {
  const before = new Map<string, unknown>(Object.entries(old ?? {}));
  return Object.entries(next).some(([k, v]) => (before.get(k) ?? 0) !== v);
}

/** Whether any field in `next` differs from `old` (strictly: a missing one differs). */
export function fieldsChanged(old: object | undefined, next: Record<string, unknown>): boolean {
  const before = new Map<string, unknown>(Object.entries(old ?? {}));
  return Object.entries(next).some(([k, v]) => before.get(k) !== v);
}
