// Indexed Jobs (completionMode: Indexed): each pod carries one completion index in
// [0, completions); the Job is complete once every index has a Succeeded pod. The set of
// completed indexes is written as Kubernetes writes `status.completedIndexes`: ascending
// intervals, `first-last` for three or more, `first,last` for two (`0-2,4,6,7`).

/** The annotation (and label) that carries a pod's index; the pod's JOB_COMPLETION_INDEX reads it. */
export const COMPLETION_INDEX_KEY = 'batch.kubernetes.io/job-completion-index';

/** The env var every container of an Indexed Job's pod gets. */
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

/** Kubernetes' limit on completions of an Indexed Job (so the index set stays small). */
export const MAX_INDEXED_COMPLETIONS = 100_000;

/** A pod's completion index, when it has a valid one below `completions`. */
export function indexOf(
  meta: { annotations?: Record<string, string>; labels?: Record<string, string> },
  completions: number,
): number | undefined {
  const raw = meta.annotations?.[COMPLETION_INDEX_KEY] ?? meta.labels?.[COMPLETION_INDEX_KEY];
  if (raw === undefined || !/^(0|[1-9]\d{0,8})$/.test(raw)) return undefined;
  const i = Number(raw);
  return i < completions ? i : undefined;
}

/** Reads a completedIndexes string; anything malformed or out of range is skipped (a status is only a hint). */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (text === undefined || text === '') return out;
  const intervals: [number, number][] = [];
  for (const part of text.split(',', completions + 1)) {
    const m = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part);
    if (m === null) continue;
    const first = Number(m[1]);
    const last = Math.min(Number(m[2] ?? m[1]), completions - 1);
    if (first <= last) intervals.push([first, last]);
  }
  // Overlapping intervals are walked once: the work is bounded by completions, whatever the text.
  intervals.sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [first, last] of intervals) {
    for (let i = Math.max(first, next); i <= last; i++) out.add(i);
    next = Math.max(next, last + 1);
  }
  return out;
}

/** Writes a set of indexes as Kubernetes does. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i] ?? 0;
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    const last = sorted[j] ?? first;
    parts.push(last === first ? `${first}` : last === first + 1 ? `${first},${last}` : `${first}-${last}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The first `count` indexes in [0, completions) that are neither done nor taken. */
export function missingIndexes(completions: number, busy: ReadonlySet<number>, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!busy.has(i)) out.push(i);
  return out;
}
