// The watch cache's memory of recent events, in revision order. It holds every event with a
// revision in (floor, newest]; a watch from a revision at or above the floor can be served
// from here (an older one goes to the store's own history).
//
// Bounded by count (capacity) and, like Kubernetes' cacher, by age: events older than
// `freshForMs` are let go once more than `minEvents` are held. Each event keeps an object
// version the live cache may no longer hold, so a count bound alone kept 100,000 old pod
// versions alive at 15,000 pods (most of the apiserver's heap) long after a burst.

import type { StoreEvent } from './store.js';

export interface EventRingAge {
  /** Events younger than this are kept (up to capacity). */
  freshForMs: number;
  /** This many newest events are kept whatever their age. */
  minEvents: number;
  /** Milliseconds (tests pass their own clock). */
  now?: () => number;
}

/** Kubernetes' cacher keeps events for 75 s (eventFreshDuration). */
export const DEFAULT_RING_AGE: EventRingAge = { freshForMs: 75_000, minEvents: 1_000 };

export class EventRing {
  private readonly capacity: number;
  private readonly age: EventRingAge | undefined;
  private readonly now: () => number;
  /** Live events are events[start..]; the slots before start are dropped ones, reused in bulk. */
  private events: (StoreEvent | undefined)[] = [];
  private times: number[] = [];
  private start = 0;
  private floorRevision: number;

  constructor(capacity: number, floor: number, age?: EventRingAge) {
    this.capacity = Math.max(0, Math.floor(capacity));
    this.floorRevision = floor;
    this.age = age;
    this.now = age?.now ?? Date.now;
  }

  /** Events with a revision above this one are all here. */
  get floor(): number {
    return this.floorRevision;
  }

  get length(): number {
    return this.events.length - this.start;
  }

  /** Forgets everything; the ring then covers revisions after `floor`. */
  reset(floor: number): void {
    this.events = [];
    this.times = [];
    this.start = 0;
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
    const now = this.now();
    this.events.push(event);
    this.times.push(now);
    this.trim(now);
  }

  /** Calls fn for each event with revision > after, oldest first. */
  forEachAfter(after: number, fn: (event: StoreEvent) => void): void {
    const n = this.events.length;
    // Binary search for the first revision > after.
    let lo = this.start;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ev = this.events[mid];
      if (ev !== undefined && ev.revision <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < n; i++) {
      const ev = this.events[i];
      if (ev !== undefined) fn(ev);
    }
  }

  private trim(now: number): void {
    const oldestFresh = this.age === undefined ? -Infinity : now - this.age.freshForMs;
    const minEvents = this.age?.minEvents ?? this.capacity;
    while (this.length > this.capacity || (this.length > minEvents && (this.times[this.start] ?? now) < oldestFresh)) {
      const dropped = this.events[this.start];
      if (dropped !== undefined) this.floorRevision = Math.max(this.floorRevision, dropped.revision);
      this.events[this.start] = undefined;
      this.start++;
    }
    // Reclaim the dropped slots once they are half the array (amortised O(1) per event).
    if (this.start > 1024 && this.start * 2 > this.events.length) {
      this.events = this.events.slice(this.start);
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
  }
}
