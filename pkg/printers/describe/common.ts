// Pieces every kubectl describer shares: times, multi-line labels / annotations /
// tolerations / taints, selectors, the controller line and the Events table.

import type { KubeObject } from '../../api/meta.js';
import type { Event, LabelSelector, Taint, Toleration } from '../../api/types/index.js';
import { humanDuration } from '../printers.js';
import { LEVEL_0, LEVEL_1, type PrefixWriter } from './prefix-writer.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Go's time.RFC1123Z in the local zone (`Mon, 30 Nov 2026 10:42:45 +0000`); Go's zero time when unset. */
export function rfc1123z(ts: string | undefined): string {
  const ms = ts === undefined || ts === '' ? NaN : Date.parse(ts);
  if (Number.isNaN(ms)) return 'Mon, 01 Jan 0001 00:00:00 +0000';
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  return (
    `${DAYS[d.getDay()] ?? ''}, ${two(d.getDate())} ${MONTHS[d.getMonth()] ?? ''} ${d.getFullYear()} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}`
  );
}

/** How long ago, as kubectl prints ages; `<unknown>` when unset. */
export function since(ts: string | undefined, now: Date): string {
  const ms = ts === undefined || ts === '' ? NaN : Date.parse(ts);
  return Number.isNaN(ms) ? '<unknown>' : humanDuration(now.getTime() - ms);
}

/** The one annotation kubectl never shows. */
const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);
const MAX_ANNOTATION = 140;

/** A section title; `indent` also starts its continuation lines. */
export type Heading = string | { title: string; indent: string };

/** `Title:` then `key=value`, one per line under the first, sorted; `<none>` when empty. */
export function printLabels(
  w: PrefixWriter,
  heading: Heading,
  labels: Readonly<Record<string, string>> | undefined,
): void {
  const { title, indent: initialIndent } = typeof heading === 'string' ? { title: heading, indent: '' } : heading;
  w.write(LEVEL_0, `${initialIndent}${title}:\t`);
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) {
    w.line('<none>');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) w.write(LEVEL_0, `${initialIndent}\t`);
    w.write(LEVEL_0, `${key}=${labels?.[key] ?? ''}\n`);
  });
}

/** `Title:` then `key: value`; a long or multi-line value goes below its key, each line cut at 138 characters. */
export function printAnnotations(
  w: PrefixWriter,
  title: string,
  annotations: Readonly<Record<string, string>> | undefined,
): void {
  w.write(LEVEL_0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {})
    .filter((k) => !SKIPPED_ANNOTATIONS.has(k))
    .sort();
  if (keys.length === 0) {
    w.line('<none>');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    const value = (annotations?.[key] ?? '').replace(/\n$/, '');
    if (value.length + key.length + 2 > MAX_ANNOTATION || value.includes('\n')) {
      w.write(LEVEL_0, `${key}:\n`);
      for (const part of value.split('\n')) w.write(LEVEL_0, `\t  ${shorten(part, MAX_ANNOTATION - 2)}\n`);
    } else w.write(LEVEL_0, `${key}: ${value}\n`);
  });
}

function shorten(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + '...' : s;
}

/** Tolerations sorted by key: `key=value:Effect op=Exists for 300s`. */
export function printTolerations(w: PrefixWriter, title: string, tolerations: readonly Toleration[] | undefined): void {
  w.write(LEVEL_0, `${title}:\t`);
  const list = [...(tolerations ?? [])].sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
  if (list.length === 0) {
    w.line('<none>');
    return;
  }
  list.forEach((t, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    let text = t.key ?? '';
    if (t.value) text += `=${t.value}`;
    if (t.effect) text += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) text += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined) text += ` for ${t.tolerationSeconds}s`;
    w.write(LEVEL_0, `${text}\n`);
  });
}

/** Taints sorted by effect then key: `key=value:Effect`. */
export function printTaints(w: PrefixWriter, title: string, taints: readonly Taint[] | undefined): void {
  w.write(LEVEL_0, `${title}:\t`);
  const cmp = (t: Taint): string => `${t.effect},${t.key}`;
  const list = [...(taints ?? [])].sort((a, b) => (cmp(a) < cmp(b) ? -1 : cmp(a) > cmp(b) ? 1 : 0));
  if (list.length === 0) {
    w.line('<none>');
    return;
  }
  list.forEach((t, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    w.write(LEVEL_0, `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}\n`);
  });
}

/** A label map as kubectl's labels.FormatLabels: `a=1,b=2` sorted, `<none>` when empty. */
export function formatLabels(map: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(map ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${map?.[k] ?? ''}`).join(',');
}

/** A LabelSelector as a selector string (requirements sorted by key, values sorted); `empty` when it selects everything. */
export function selectorString(sel: LabelSelector | undefined, empty = ''): string {
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of sel?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text =
      e.operator === 'In'
        ? `${e.key} in (${values})`
        : e.operator === 'NotIn'
          ? `${e.key} notin (${values})`
          : e.operator === 'Exists'
            ? e.key
            : `!${e.key}`;
    parts.push({ key: e.key, text });
  }
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.length === 0 ? empty : parts.map((p) => p.text).join(',');
}

/** `Kind/name` of the controlling owner, or undefined. */
export function controllerText(obj: KubeObject): string | undefined {
  const owner = obj.metadata.ownerReferences?.find((o) => o.controller === true);
  return owner === undefined ? undefined : `${owner.kind}/${owner.name}`;
}

/** Go's %v of a bool pointer as describe prints it. */
export function boolText(value: boolean | undefined): string {
  return value === undefined ? '<unset>' : value ? 'True' : 'False';
}

function eventAge(e: Event, now: Date): string {
  const first = e.eventTime ? since(e.eventTime, now) : since(e.firstTimestamp, now);
  if (e.series !== undefined) return `${since(e.series.lastObservedTime, now)} (x${e.series.count ?? 0} over ${first})`;
  if ((e.count ?? 0) > 1) return `${since(e.lastTimestamp, now)} (x${e.count ?? 0} over ${first})`;
  return first;
}

/** The Events table (oldest first by last timestamp), or `Events: <none>`. */
export function printEvents(w: PrefixWriter, events: readonly Event[], now: Date): void {
  if (events.length === 0) {
    w.write(LEVEL_0, 'Events:\t<none>\n');
    return;
  }
  w.flush();
  const sorted = [...events].sort((a, b) => {
    const x = Date.parse(a.lastTimestamp ?? '') || 0;
    const y = Date.parse(b.lastTimestamp ?? '') || 0;
    return x - y;
  });
  w.write(LEVEL_0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  w.write(LEVEL_1, '----\t------\t----\t----\t-------\n');
  for (const e of sorted) {
    const source = e.source?.component || e.reportingComponent || '';
    let message = (e.message ?? '').trim();
    if (e.involvedObject.fieldPath) message = `${e.involvedObject.fieldPath}: ${message}`;
    w.write(LEVEL_1, `${e.type ?? ''}\t${e.reason ?? ''}\t${eventAge(e, now)}\t${source}\t${message}\n`);
  }
}
