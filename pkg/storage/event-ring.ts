// The watch cache's memory of recent events: a fixed-size ring in revision order. It holds
// every event with a revision in (floor, newest]; a watch from a revision at or above the
// floor can be served from here.

import type { StoreEvent } from './store.js';

export class EventRing {
  private readonly capacity: number;
  private events: StoreEvent[] = [];
  /** Index of the oldest event once the ring is full. */
  private head = 0;
  private floorRevision: number;

  constructor(capacity: number, floor: number) {
    this.capacity = Math.max(0, Math.floor(capacity));
    this.floorRevision = floor;
  }

  /** Events with a revision above this one are all here. */
  get floor(): number {
    return this.floorRevision;
  }

  get length(): number {
    return this.events.length;
  }

  /** Forgets everything; the ring then covers revisions after `floor`. */
  reset(floor: number): void {
    this.events = [];
    this.head = 0;
    this.floorRevision = floor;
  }

  /** Stops serving events at or below revision (they were compacted away). */
  raiseFloor(revision: number): void {
    this.floorRevision = Math.max(this.floorRevision, revision);
  }

  push(event: StoreEvent): void {
    if (this.capacity === 0) {
      this.floorRevision = Math.max(this.floorRevision, event.revision);
      return;
    }
    if (this.events.length < this.capacity) {
      this.events.push(event);
      return;
    }
    const evicted = this.events[this.head];
    if (evicted !== undefined) this.floorRevision = Math.max(this.floorRevision, evicted.revision);
    this.events[this.head] = event;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Calls fn for each event with revision > after, oldest first. */
  forEachAfter(after: number, fn: (event: StoreEvent) => void): void {
    const n = this.events.length;
    // Binary search over logical positions (0 = oldest) for the first revision > after.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ev = this.at(mid);
      if (ev !== undefined && ev.revision <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < n; i++) {
      const ev = this.at(i);
      if (ev !== undefined) fn(ev);
    }
  }

  private at(position: number): StoreEvent | undefined {
    return this.events[(this.head + position) % this.events.length];
  }
}
