// Moving a stopped cluster's state from one store to another (`coxctl store migrate`,
// SQLite → etcd, as k3s users move from kine/SQLite to etcd).
//
// What is copied: every live key with its stored bytes, unchanged. Both backends keep a
// value in the same form (value-codec.ts: the object's JSON without resourceVersion, through
// the resource's encryption transformer, which binds the value to its store key, not to the
// backend), so an encrypted value stays encrypted as it was and reads back under an
// apiserver started with the same --encryption-provider-config; no plaintext is made. With
// that config given, every value is also decrypted once before it is written, to prove so.
// resourceVersions are the target's own revisions: they change, which a stopped cluster's
// components survive (they list afresh); no stored value carries one.
//
// Safety: the target must hold nothing under its prefix, unless it holds this source's own
// unfinished migration (a marker key beside the prefix, written first and removed last).
// The copy is a merge of the source and the target in key order, a page at a time (bounded
// memory): keys missing or different in the target are written, target keys the source no
// longer has are removed. So a re-run after any failure finishes the job, and a run on a
// target that is already complete writes nothing. Then a read-back of both sides compares
// the count and the SHA-256 of every value; only if it matches is the marker removed.

import { createHash } from 'node:crypto';
import { errorMessage } from '../errors/index.js';
import {
  ENCRYPTED_PREFIX,
  formatGroupResource,
  groupResourceOfStorageKey,
  type ResourceTransformers,
} from './encryption/index.js';
import { ValueCodec } from './value-codec.js';

/** One stored key and its value, exactly as the store holds it. */
export interface MigrationEntry {
  key: string;
  value: Buffer;
}

/** Keys after a cursor, in key order; `next` is the cursor of the following page (none: the end). */
export interface MigrationPage {
  entries: MigrationEntry[];
  next: string | undefined;
}

export interface MigrationSource {
  /** How the user named it, e.g. `sqlite:/var/lib/coxswain`. */
  readonly describe: string;
  /** The source's latest revision (recorded in the marker: a changed source is copied afresh). */
  readonly revision: number;
  /** Live keys after `after` (all keys when undefined), at most `limit`. */
  page(after: string | undefined, limit: number): Promise<MigrationPage>;
}

export interface MigrationTarget {
  readonly describe: string;
  page(after: string | undefined, limit: number): Promise<MigrationPage>;
  /** How many keys the target holds under its prefix. */
  countKeys(): Promise<number>;
  put(entries: MigrationEntry[]): Promise<void>;
  remove(keys: string[]): Promise<void>;
  readMarker(): Promise<string | undefined>;
  /** Writes the marker if there is none; false when one appeared meanwhile. */
  createMarker(value: string): Promise<boolean>;
  removeMarker(): Promise<void>;
}

/** A refusal or failure the user can act on: printed as one line. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrateOptions {
  /** The encryption config the source was written with: each value must decrypt with it. */
  transformers?: ResourceTransformers;
  /** Keys per page read and per batch written (default 500). */
  pageSize?: number;
  /** After each batch written, with the number of source keys walked so far. */
  onProgress?: (walked: number) => void;
}

export interface MigrationReport {
  source: string;
  target: string;
  /** Live objects in the source, each now in the target under the same key. */
  objects: number;
  /** Objects per resource (`configmaps`, `deployments.apps`, …). */
  perResource: Map<string, number>;
  /** Keys this run wrote (fewer than objects when resuming). */
  written: number;
  /** Target keys this run removed (left by an earlier, interrupted run from an older source). */
  removed: number;
  /** Values stored encrypted (copied as they were). */
  encrypted: number;
  /** This run finished an earlier, interrupted one. */
  resumed: boolean;
  /** SHA-256 over every key and its value's SHA-256, in key order: the same on both sides. */
  digest: string;
  elapsedMs: number;
}

interface Marker {
  source: string;
  sourceRevision: number;
  startedAt: string;
}

const DEFAULT_PAGE = 500;

/** Byte order of the UTF-8 keys: how SQLite (BINARY) and etcd both sort them. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The resource a key belongs to, as the summary names it. */
export function resourceOfKey(key: string): string {
  const gr = groupResourceOfStorageKey(key);
  return gr === undefined ? (key.split('/')[1] ?? key) : formatGroupResource(gr);
}

/** Walks a paged key space one entry at a time, holding one page at most. */
class PagedCursor {
  private buffer: MigrationEntry[] = [];
  private index = 0;
  private after: string | undefined;
  private done = false;

  constructor(private readonly fetch: (after: string | undefined) => Promise<MigrationPage>) {}

  async peek(): Promise<MigrationEntry | undefined> {
    // Each fetch moves `after` forward or ends the walk: bounded by the keys there are.
    while (this.index >= this.buffer.length) {
      if (this.done) return undefined;
      const page = await this.fetch(this.after);
      this.buffer = page.entries;
      this.index = 0;
      this.after = page.next;
      this.done = page.next === undefined;
    }
    return this.buffer[this.index];
  }

  advance(): void {
    this.index++;
  }
}

const sha256 = (value: Buffer): Buffer => createHash('sha256').update(value).digest();

function parseMarker(text: string): Marker | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const source: unknown = Reflect.get(parsed, 'source');
    const sourceRevision: unknown = Reflect.get(parsed, 'sourceRevision');
    const startedAt: unknown = Reflect.get(parsed, 'startedAt');
    if (typeof source !== 'string' || typeof sourceRevision !== 'number' || typeof startedAt !== 'string')
      return undefined;
    return { source, sourceRevision, startedAt };
  } catch {
    return undefined;
  }
}

/** Refuses a target in use; else claims it with the marker. True when resuming an earlier run. */
async function claimTarget(source: MigrationSource, target: MigrationTarget): Promise<boolean> {
  const existing = await target.readMarker();
  if (existing !== undefined) {
    const marker = parseMarker(existing);
    if (marker === undefined)
      throw new MigrationError(`${target.describe} holds an unreadable migration marker: refusing to write`);
    if (marker.source !== source.describe)
      throw new MigrationError(
        `${target.describe} holds an unfinished migration from ${marker.source} (started ${marker.startedAt}): ` +
          `finish it with --from ${marker.source}`,
      );
    return true;
  }
  const present = await target.countKeys();
  if (present > 0)
    throw new MigrationError(
      `${target.describe} already holds ${present} key(s): refusing to mix two clusters' state ` +
        '(migrate into an empty etcd, or choose another --etcd-prefix)',
    );
  const marker: Marker = {
    source: source.describe,
    sourceRevision: source.revision,
    startedAt: new Date().toISOString(),
  };
  if (!(await target.createMarker(JSON.stringify(marker))))
    throw new MigrationError(`${target.describe}: another migration started into it meanwhile`);
  return false;
}

interface CopyTally {
  objects: number;
  written: number;
  removed: number;
  encrypted: number;
  perResource: Map<string, number>;
}

/** Makes the target's keys equal to the source's (the merge described at the top). */
async function copy(source: MigrationSource, target: MigrationTarget, options: MigrateOptions): Promise<CopyTally> {
  const pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE);
  const codec = options.transformers === undefined ? undefined : new ValueCodec(options.transformers);
  const src = new PagedCursor((after) => source.page(after, pageSize));
  const dst = new PagedCursor((after) => target.page(after, pageSize));
  const tally: CopyTally = { objects: 0, written: 0, removed: 0, encrypted: 0, perResource: new Map() };
  let puts: MigrationEntry[] = [];
  let removals: string[] = [];
  const flush = async (): Promise<void> => {
    if (puts.length > 0) await target.put(puts);
    if (removals.length > 0) await target.remove(removals);
    tally.written += puts.length;
    tally.removed += removals.length;
    puts = [];
    removals = [];
    options.onProgress?.(tally.objects);
  };
  let previous: string | undefined;
  // A target key before the current source key is not in the source (and not one just
  // written: those sort at or before `previous`).
  const dropTargetKeysBefore = async (key: string | undefined): Promise<MigrationEntry | undefined> => {
    for (let t = await dst.peek(); t !== undefined; t = await dst.peek()) {
      if (key !== undefined && compareKeys(t.key, key) >= 0) return t;
      if (previous === undefined || compareKeys(t.key, previous) > 0) removals.push(t.key);
      dst.advance();
      if (removals.length >= pageSize) await flush();
    }
    return undefined;
  };
  for (let s = await src.peek(); s !== undefined; s = await src.peek()) {
    src.advance();
    if (codec !== undefined) readable(codec, s);
    if (s.value.subarray(0, ENCRYPTED_PREFIX.length).toString('latin1') === ENCRYPTED_PREFIX) tally.encrypted++;
    const resource = resourceOfKey(s.key);
    tally.perResource.set(resource, (tally.perResource.get(resource) ?? 0) + 1);
    tally.objects++;
    const t = await dropTargetKeysBefore(s.key);
    if (t !== undefined && t.key === s.key) {
      dst.advance();
      if (!t.value.equals(s.value)) puts.push(s);
    } else puts.push(s);
    previous = s.key;
    if (puts.length >= pageSize) await flush();
  }
  await dropTargetKeysBefore(undefined);
  await flush();
  return tally;
}

/** Throws when the value would not read back under the given encryption config. */
function readable(codec: ValueCodec, entry: MigrationEntry): void {
  try {
    codec.decode(entry.key, entry.value, 1);
  } catch (err) {
    throw new MigrationError(
      `${entry.key} cannot be read with the given --encryption-provider-config: ${errorMessage(err)} ` +
        '(nothing after it was written; re-run with the config the source apiserver used)',
    );
  }
}

/** Reads both sides back: the same keys, and the same SHA-256 for every value. */
async function verify(source: MigrationSource, target: MigrationTarget, pageSize: number): Promise<string> {
  const src = new PagedCursor((after) => source.page(after, pageSize));
  const dst = new PagedCursor((after) => target.page(after, pageSize));
  const digest = createHash('sha256');
  let missing = 0;
  let extra = 0;
  let different = 0;
  let first: string | undefined;
  for (;;) {
    const s = await src.peek();
    const t = await dst.peek();
    if (s === undefined && t === undefined) break;
    const order = s === undefined ? 1 : t === undefined ? -1 : compareKeys(s.key, t.key);
    if (order < 0 && s !== undefined) {
      missing++;
      first ??= s.key;
      src.advance();
    } else if (order > 0 && t !== undefined) {
      extra++;
      first ??= t.key;
      dst.advance();
    } else if (s !== undefined && t !== undefined) {
      const hash = sha256(s.value);
      if (!hash.equals(sha256(t.value))) {
        different++;
        first ??= s.key;
      }
      digest.update(s.key).update('\0').update(hash);
      src.advance();
      dst.advance();
    }
  }
  if (missing + extra + different > 0)
    throw new MigrationError(
      `verification failed: ${missing} key(s) missing, ${extra} extra, ${different} with another value ` +
        `(first: ${first ?? '?'}); the target is left marked as unfinished: run the migration again`,
    );
  return digest.digest('hex');
}

/** Copies every live key of the source into the target, verifies, and reports. */
export async function migrate(
  source: MigrationSource,
  target: MigrationTarget,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const started = performance.now();
  const resumed = await claimTarget(source, target);
  const tally = await copy(source, target, options);
  const digest = await verify(source, target, Math.max(1, options.pageSize ?? DEFAULT_PAGE));
  await target.removeMarker();
  return {
    source: source.describe,
    target: target.describe,
    objects: tally.objects,
    perResource: tally.perResource,
    written: tally.written,
    removed: tally.removed,
    encrypted: tally.encrypted,
    resumed,
    digest,
    elapsedMs: performance.now() - started,
  };
}

/** The one-line summary. */
export function formatReport(report: MigrationReport): string {
  const seconds = report.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(report.objects / seconds) : report.objects;
  const resources = [...report.perResource.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([resource, n]) => `${resource} ${n}`)
    .join(', ');
  const notes = [
    report.resumed ? `resumed: ${report.written} written, ${report.removed} removed` : '',
    report.encrypted > 0 ? `${report.encrypted} encrypted value(s) copied as stored` : '',
  ].filter((n) => n !== '');
  return (
    `migrated ${report.objects} objects from ${report.source} to ${report.target} in ${seconds.toFixed(2)}s ` +
    `(${rate} objects/s)${resources === '' ? '' : `: ${resources}`}; ` +
    `verified: ${report.objects} keys read back, SHA-256 of every value matches (digest ${report.digest.slice(0, 16)})` +
    (notes.length > 0 ? `; ${notes.join('; ')}` : '')
  );
}
