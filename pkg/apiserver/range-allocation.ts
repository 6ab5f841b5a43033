// An allocation bitmap kept in the store (Kubernetes' RangeAllocation: `range` and `data`,
// the bitmap as the bytes of a big-endian integer whose bit i is offset i), changed only by
// compare-and-swap on the stored revision, so any number of apiservers on one store share it.
//
// Each change is: take the last copy this process read or wrote, apply the change, update
// with that revision; on Conflict (another apiserver wrote) read the stored one and apply
// again, a bounded number of times. Changes from this process go one after the other, so
// they never conflict with each other. Not served over the REST API.

import { randomInt } from 'node:crypto';
import type { KubeObject } from '../api/meta.js';
import { ApiError } from '../errors/index.js';
import { isStorageError, type Store } from '../storage/store.js';

/** Read-modify-write rounds before giving up (each lost round means another writer won). */
const CAS_ROUNDS = 20;

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
export class StoredRange {
  private readonly store: Store;
  private readonly key: string;
  private readonly size: number;
  private readonly range: string;
  /** The copy last read or written, with its revision (0: none yet). */
  private last: { bitmap: Bitmap; revision: number } | undefined;
  /** Changes from this process, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

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
   * throw, which writes nothing. `expected`: only write over that revision (repair). A dry
   * run decides on the stored bitmap and writes nothing.
   */
  change<T>(
    dryRun: boolean,
    change: (bitmap: Bitmap) => { result: T; changed: boolean },
    expected?: number,
  ): Promise<T> {
    if (dryRun) return this.read().then((stored) => change(Bitmap.decode(this.size, stored.bitmap.encode())).result);
    const next = this.queue.then(() => this.changeNow(change, expected));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async changeNow<T>(
    change: (bitmap: Bitmap) => { result: T; changed: boolean },
    expected: number | undefined,
  ): Promise<T> {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const cached = round === 0 && this.last !== undefined && expected === undefined ? this.last : undefined;
      const base = cached ?? (await this.read());
      if (expected !== undefined && base.revision !== expected)
        throw new ApiError('Conflict', `the allocation ${this.key} changed`);
      // Work on a copy: the cached one stays what the store holds until the write succeeds.
      const bitmap = Bitmap.decode(this.size, base.bitmap.encode());
      let outcome: { result: T; changed: boolean };
      try {
        outcome = change(bitmap);
      } catch (err) {
        // A refusal ("already allocated") may come from a stale copy: decide on the stored one.
        if (cached !== undefined) continue;
        throw err;
      }
      const { result, changed } = outcome;
      // Likewise "nothing to do" (another apiserver may have set the bit since).
      if (!changed && cached !== undefined) continue;
      if (!changed) return result;
      const object = this.object(bitmap);
      try {
        const written =
          base.revision === 0
            ? await this.store.create(this.key, object)
            : await this.store.update(this.key, object, base.revision);
        this.last = { bitmap, revision: written.revision };
        return result;
      } catch (err) {
        if (isStorageError(err, 'Conflict') || isStorageError(err, 'KeyExists') || isStorageError(err, 'KeyNotFound')) {
          this.last = undefined;
          if (expected !== undefined) throw new ApiError('Conflict', `the allocation ${this.key} changed`);
          continue;
        }
        throw err;
      }
    }
    throw new ApiError('InternalError', `Internal error occurred: ${this.key}: too many concurrent allocations`);
  }

  private object(bitmap: Bitmap): KubeObject {
    const name = this.key.slice(this.key.lastIndexOf('/') + 1);
    return { apiVersion: 'v1', kind: 'RangeAllocation', metadata: { name }, range: this.range, data: bitmap.encode() };
  }
}
