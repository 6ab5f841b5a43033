// An allocation bitmap kept in the store (Kubernetes' RangeAllocation: `range` and `data`,
// the bitmap as the bytes of a big-endian integer whose bit i is offset i), changed only by
// compare-and-swap on the stored revision, so any number of apiservers on one store share it.
//
// Each change is: take the last copy this process read or wrote, apply the change, update
// with that revision; on Conflict (another apiserver wrote) read the stored one and apply
// again, a bounded number of times with a jittered pause. Changes from this process that
// arrive while a write is under way are applied together in the next write (group commit):
// they never conflict with each other, and many concurrent creates cost few writes. A
// write that succeeded proves the copy it was decided on was current; a refusal or a
// no-op decided on a cached copy is decided again on the stored one. Not served over the
// REST API.

import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../api/meta.js';
import { ApiError } from '../errors/index.js';
import { isStorageError, type Store } from '../storage/store.js';

/** Read-modify-write rounds before giving up (each lost round means another writer won). */
const CAS_ROUNDS = 50;

/** A fixed-size set of offsets 0..size-1. */
export class Bitmap {
  readonly size: number;
  private readonly bytes: Uint8Array;
  private used = 0;

  constructor(size: number, bytes?: Uint8Array) {
    this.size = size;
    this.bytes = new Uint8Array(Math.ceil(size / 8));
    if (bytes !== undefined) {
      // Big-endian (Kubernetes' big.Int.Bytes()): the last byte holds offsets 0-7.
      const n = Math.min(bytes.length, this.bytes.length);
      for (let i = 0; i < n; i++) this.bytes[i] = bytes[bytes.length - 1 - i] ?? 0;
      // Bits beyond the range (a range that shrank) are not ours to keep.
      for (let i = size; i < this.bytes.length * 8; i++) this.clear(i);
      for (const b of this.bytes) this.used += popcount(b);
    }
  }

  /** A copy to change without touching this one. */
  clone(): Bitmap {
    const copy = new Bitmap(this.size);
    copy.bytes.set(this.bytes);
    copy.used = this.used;
    return copy;
  }

  static decode(size: number, data: unknown): Bitmap {
    return new Bitmap(size, typeof data === 'string' ? Buffer.from(data, 'base64') : undefined);
  }

  encode(): string {
    let top = this.bytes.length - 1;
    while (top >= 0 && this.bytes[top] === 0) top--;
    const out = Buffer.alloc(top + 1);
    for (let i = 0; i <= top; i++) out[top - i] = this.bytes[i] ?? 0;
    return out.toString('base64');
  }

  get count(): number {
    return this.used;
  }

  has(offset: number): boolean {
    return (((this.bytes[offset >> 3] ?? 0) >> (offset & 7)) & 1) === 1;
  }

  /** Sets the bit; false when it was already set. */
  set(offset: number): boolean {
    if (offset < 0 || offset >= this.size || this.has(offset)) return false;
    this.bytes[offset >> 3] = (this.bytes[offset >> 3] ?? 0) | (1 << (offset & 7));
    this.used++;
    return true;
  }

  /** Clears the bit; false when it was not set. */
  clear(offset: number): boolean {
    if (!this.has(offset)) return false;
    this.bytes[offset >> 3] = (this.bytes[offset >> 3] ?? 0) & ~(1 << (offset & 7));
    if (offset < this.size) this.used--;
    return true;
  }

  /** A free offset in [from, size), scanning from a random point (Kubernetes' random scan). */
  randomFree(from: number): number | undefined {
    const span = this.size - from;
    if (span <= 0) return undefined;
    const start = randomInt(span);
    for (let i = 0; i < span; i++) {
      const offset = from + ((start + i) % span);
      if (!this.has(offset)) return offset;
    }
    return undefined;
  }

  offsets(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.has(i)) out.push(i);
    return out;
  }
}

function popcount(b: number): number {
  let n = 0;
  for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
}

/** One RangeAllocation object in the store. */
interface PendingChange {
  /** Applies the change; true when it changed the bitmap. Throws to refuse. */
  apply: (bitmap: Bitmap) => boolean;
  /** Settles the caller: undefined for success. */
  done: (err?: unknown) => void;
}

const lostRace = (err: unknown): boolean =>
  isStorageError(err, 'Conflict') || isStorageError(err, 'KeyExists') || isStorageError(err, 'KeyNotFound');

/** One RangeAllocation object in the store. */
export class StoredRange {
  private readonly store: Store;
  private readonly key: string;
  private readonly size: number;
  private readonly range: string;
  /** The copy last read or written, with its revision (0: none yet). */
  private last: { bitmap: Bitmap; revision: number } | undefined;
  /** Changes waiting for the next write. */
  private pending: PendingChange[] = [];
  private writing = false;

  /** `at`: the store key and the range's text (`10.96.0.0/12`, `30000-32767`). */
  constructor(store: Store, at: { key: string; range: string }, size: number) {
    this.store = store;
    this.key = at.key;
    this.range = at.range;
    this.size = size;
  }

  /** The stored bitmap and its revision (0 when there is none yet). */
  async read(): Promise<{ bitmap: Bitmap; revision: number }> {
    const item = await this.store.get(this.key);
    const data = item === undefined ? undefined : item.object['data'];
    this.last = { bitmap: Bitmap.decode(this.size, data), revision: item?.revision ?? 0 };
    return this.last;
  }

  /**
   * Applies `change` to the stored bitmap and writes it with compare-and-swap. `change`
   * returns its result and whether it changed anything (nothing written otherwise); it may
   * throw, which refuses this change only. A dry run decides on the stored bitmap and
   * writes nothing.
   */
  change<T>(dryRun: boolean, change: (bitmap: Bitmap) => { result: T; changed: boolean }): Promise<T> {
    if (dryRun) return this.read().then((stored) => change(stored.bitmap.clone()).result);
    return new Promise<T>((resolve, reject) => {
      let decided: { result: T } | undefined;
      this.pending.push({
        apply: (bitmap) => {
          const outcome = change(bitmap);
          decided = { result: outcome.result };
          return outcome.changed;
        },
        done: (err) => {
          if (err !== undefined) reject(err);
          else if (decided !== undefined) resolve(decided.result);
          else reject(new ApiError('InternalError', `Internal error occurred: ${this.key}: change not applied`));
        },
      });
      this.writeNext();
    });
  }

  /** Starts the next write if none is under way and changes wait. */
  private writeNext(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    const batch = this.pending;
    this.pending = [];
    void this.write(batch).finally(() => {
      this.writing = false;
      this.writeNext();
    });
  }

  private async write(batch: PendingChange[]): Promise<void> {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const cached = round === 0 ? this.last : undefined;
      let base: { bitmap: Bitmap; revision: number };
      try {
        base = cached ?? (await this.read());
      } catch (err) {
        for (const p of batch) p.done(err);
        return;
      }
      let bitmap = base.bitmap.clone();
      let changed = false;
      const refused = new Map<PendingChange, unknown>();
      for (const p of batch) {
        // Each change on its own copy: a refused one leaves nothing behind.
        const trial = bitmap.clone();
        try {
          if (p.apply(trial)) {
            bitmap = trial;
            changed = true;
          }
        } catch (err) {
          refused.set(p, err);
        }
      }
      // Decided on a cached copy and not proven by a write: decide again on the stored one.
      if (cached !== undefined && (!changed || refused.size > 0)) continue;
      if (changed) {
        try {
          const object = this.object(bitmap);
          const written =
            base.revision === 0
              ? await this.store.create(this.key, object)
              : await this.store.update(this.key, object, base.revision);
          this.last = { bitmap, revision: written.revision };
        } catch (err) {
          if (!lostRace(err)) {
            for (const p of batch) p.done(err);
            return;
          }
          // Another apiserver wrote first: read again after a short, jittered pause.
          this.last = undefined;
          await sleep(randomInt(1 + Math.min(round, 10) * 2));
          continue;
        }
      }
      for (const p of batch) p.done(refused.get(p));
      return;
    }
    const err = new ApiError('InternalError', `Internal error occurred: ${this.key}: too many concurrent allocations`);
    for (const p of batch) p.done(err);
  }

  /**
   * The repair pass's write: `change` applied to the bitmap as stored at `expected`, written
   * only over that revision (Conflict otherwise, and nothing is written).
   */
  async changeAt(expected: number, change: (bitmap: Bitmap) => void): Promise<void> {
    const base = await this.read();
    if (base.revision !== expected) throw new ApiError('Conflict', `the allocation ${this.key} changed`);
    const bitmap = base.bitmap.clone();
    change(bitmap);
    const object = this.object(bitmap);
    try {
      const written =
        expected === 0
          ? await this.store.create(this.key, object)
          : await this.store.update(this.key, object, expected);
      this.last = { bitmap, revision: written.revision };
    } catch (err) {
      this.last = undefined;
      if (lostRace(err)) throw new ApiError('Conflict', `the allocation ${this.key} changed`);
      throw err;
    }
  }

  private object(bitmap: Bitmap): KubeObject {
    const name = this.key.slice(this.key.lastIndexOf('/') + 1);
    return { apiVersion: 'v1', kind: 'RangeAllocation', metadata: { name }, range: this.range, data: bitmap.encode() };
  }
}
