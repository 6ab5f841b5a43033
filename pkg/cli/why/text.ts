// Small, hostile-input-safe text helpers for `coxctl why`: every string shown comes from the
// wire (events, statuses, logs), so it is made one line, stripped of control characters
// (a log line must not drive the terminal) and bounded.

import type { Event } from '../../api/index.js';

const MAX_LINE = 300;

/** C0 and C1 controls and DEL become spaces (an ANSI escape loses its ESC and is inert). */
function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? ' ' : ch;
  }
  return out;
}

/** One printable line of at most `max` characters. */
export function oneLine(value: unknown, max = MAX_LINE): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
  // Bounded before the character walk: a megabyte message costs no more than a short one.
  const flat = printable(text.slice(0, max * 4))
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The last `count` non-blank lines of a log, each made printable and bounded. */
export function logTail(log: string | undefined, count = 5): string[] {
  if (log === undefined) return [];
  // Only the end matters: never split a huge text whole.
  const end = log.length > 64 * 1024 ? log.slice(-64 * 1024) : log;
  return end
    .split('\n')
    .map((l) => oneLine(l, 200))
    .filter((l) => l !== '')
    .slice(-count);
}

/** A Kubernetes time (RFC 3339) as milliseconds, or undefined when it is not one. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** When an event last happened (lastTimestamp, series, eventTime, creation), in ms; 0 when unknown. */
export function eventTime(e: Event): number {
  return (
    timeOf(e.lastTimestamp) ??
    timeOf(e.series?.lastObservedTime) ??
    timeOf(e.eventTime) ??
    timeOf(e.firstTimestamp) ??
    timeOf(e.metadata.creationTimestamp) ??
    0
  );
}

/** Events newest first; a malformed entry (not an object) is dropped. */
export function newestFirst(events: readonly Event[]): Event[] {
  return events
    .filter(
      (e): e is Event =>
        typeof e === 'object' && e !== null && typeof e.metadata === 'object' && typeof e.involvedObject === 'object',
    )
    .slice()
    .sort((a, b) => eventTime(b) - eventTime(a));
}

/** `2m3s`-style age, as kubectl prints durations (coarse). */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

/** A kubectl command line, with `-n NS` when the namespace is not `default`. */
export function kubectlCommand(namespace: string, args: string): string {
  return namespace === 'default' ? `kubectl ${args}` : `kubectl ${args} -n ${namespace}`;
}
