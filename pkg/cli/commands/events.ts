// coxctl events: kubectl events' table (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; NAMESPACE
// first with -A), oldest first, `2m (x5 over 10m)` for repeated events; --for TYPE/NAME
// keeps one object's events, --types Normal,Warning filters by type, -w streams new ones.

import type { Event } from '../../api/index.js';
import { RESOURCES, resolveResource } from '../../api/registry.js';
import { watchStream } from '../../client/index.js';
import { humanDuration } from '../../printers/index.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns } from '../output.js';

export interface EventsFlags {
  allNamespaces?: boolean;
  for?: string;
  types?: string;
  watch?: boolean;
}

/** The time an event was last seen: lastTimestamp, else the series' or eventTime. */
function lastSeen(e: Event): number {
  const t =
    e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return t !== undefined ? Date.parse(t) : 0;
}

function firstSeen(e: Event): number {
  const t = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  return t !== undefined ? Date.parse(t) : lastSeen(e);
}

/** LAST SEEN as kubectl events shows it. */
export function lastSeenText(e: Event, now: number): string {
  const age = humanDuration(now - lastSeen(e));
  const count = e.series?.count ?? e.count ?? 1;
  return count > 1 ? `${age} (x${count} over ${humanDuration(now - firstSeen(e))})` : age;
}

export function eventRow(e: Event, opts: { now: number; withNamespace: boolean }): string[] {
  const row = [
    lastSeenText(e, opts.now),
    e.type ?? '',
    e.reason ?? '',
    `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
    (e.message ?? '').trim(),
  ];
  return opts.withNamespace ? [e.metadata.namespace ?? '', ...row] : row;
}

const HEADER = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];

/** --for TYPE/NAME: the kind and name events of that object carry. */
function forFilter(text: string | undefined): ((e: Event) => boolean) | undefined {
  if (text === undefined) return undefined;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw new CliError(`--for must be in resource/name form`);
  const r = resolveResource(text.slice(0, slash));
  if (r === undefined) throw new CliError(`the server doesn't have a resource type "${text.slice(0, slash)}"`);
  const name = text.slice(slash + 1);
  return (e) => e.involvedObject.kind === r.kind && e.involvedObject.name === name;
}

function typesFilter(text: string | undefined): ((e: Event) => boolean) | undefined {
  if (text === undefined) return undefined;
  const types = text.split(',').map((t) => t.trim());
  for (const t of types)
    if (t.toLowerCase() !== 'normal' && t.toLowerCase() !== 'warning')
      throw new CliError(`valid --types are Normal or Warning`);
  return (e) => types.some((t) => t.toLowerCase() === (e.type ?? '').toLowerCase());
}

export async function runEvents(ctx: CliContext, flags: EventsFlags): Promise<void> {
  const filters = [forFilter(flags.for), typesFilter(flags.types)].filter((f) => f !== undefined);
  const keep = (e: Event): boolean => filters.every((f) => f(e));
  const namespace = flags.allNamespaces ? undefined : ctx.namespace();
  const list = await ctx.client().list(RESOURCES.events, namespace !== undefined ? { namespace } : {});
  const events = list.items.filter(keep).sort((a, b) => lastSeen(a) - lastSeen(b));
  const withNamespace = flags.allNamespaces === true;
  const header = withNamespace ? ['NAMESPACE', ...HEADER] : HEADER;
  const now = Date.now();
  if (events.length > 0) ctx.out(formatColumns([header, ...events.map((e) => eventRow(e, { now, withNamespace }))]));
  else if (!flags.watch)
    ctx.err(namespace !== undefined ? `No events found in ${namespace} namespace.` : 'No events found.');
  if (!flags.watch) return;
  let printHeader = events.length === 0;
  await new Promise<void>((resolve, reject) => {
    watchStream(
      ctx.client(),
      {
        resource: RESOURCES.events,
        ...(namespace !== undefined ? { namespace } : {}),
        resourceVersion: list.metadata.resourceVersion ?? '',
      },
      {
        onEvent: (ev) => {
          if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
          const e = ev.object;
          if (!keep(e)) return;
          const rows = [eventRow(e, { now: Date.now(), withNamespace })];
          if (printHeader) rows.unshift(header);
          printHeader = false;
          ctx.out(formatColumns(rows));
        },
        onClose: (err) => (err ? reject(err) : resolve()),
      },
    );
  });
}
