// The scheduling queue: pods waiting to be scheduled, highest priority first, then oldest.
// A pod that fits nowhere waits in the unschedulable set until the cluster changes (a
// node appears or changes, a pod goes) or its back-off (1 s doubling to 10 s) runs out.

import type { PodView } from './framework.js';

interface Entry {
  pod: PodView;
  priority: number;
  created: number;
  seq: number;
}

function before(a: Entry, b: Entry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.created !== b.created) return a.created < b.created;
  return a.seq < b.seq;
}

function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** (attempts - 1), 10_000);
}

export class SchedulingQueue {
  private readonly heap: Entry[] = [];
  private readonly queued = new Map<string, Entry>();
  private readonly unschedulable = new Map<string, { pod: PodView; attempts: number; since: number }>();
  private readonly waiters: ((pod: PodView | undefined) => void)[] = [];
  private seq = 0;
  private closed = false;

  private entry(pod: PodView): Entry {
    return {
      pod,
      priority: pod.spec?.priority ?? 0,
      created: Date.parse(pod.metadata.creationTimestamp ?? '') || 0,
      seq: this.seq++,
    };
  }

  /** Adds or refreshes a pending pod. */
  add(pod: PodView): void {
    const uid = pod.metadata.uid ?? '';
    const parked = this.unschedulable.get(uid);
    if (parked !== undefined) {
      this.unschedulable.set(uid, { ...parked, pod });
      return;
    }
    const existing = this.queued.get(uid);
    if (existing !== undefined) {
      existing.pod = pod;
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(pod);
      return;
    }
    const e = this.entry(pod);
    this.queued.set(uid, e);
    this.push(e);
  }

  /** The pod is no longer pending (bound elsewhere or deleted). */
  remove(uid: string): void {
    this.unschedulable.delete(uid);
    const e = this.queued.get(uid);
    if (e !== undefined) {
      this.queued.delete(uid);
      e.pod = { ...e.pod, metadata: { ...e.pod.metadata, uid: '' } }; // tombstone: skipped on pop
    }
  }

  /** Parks a pod that fits nowhere. */
  markUnschedulable(pod: PodView): void {
    const uid = pod.metadata.uid ?? '';
    const prev = this.unschedulable.get(uid);
    this.unschedulable.set(uid, { pod, attempts: (prev?.attempts ?? 0) + 1, since: Date.now() });
  }

  /** Cluster changed: parked pods whose back-off has passed go back to the active queue. */
  moveAllToActive(now = Date.now()): void {
    for (const [uid, u] of [...this.unschedulable]) {
      if (now - u.since >= backoffMs(u.attempts)) {
        this.unschedulable.delete(uid);
        this.add(u.pod);
      }
    }
  }

  pop(): Promise<PodView | undefined> {
    while (this.heap.length > 0) {
      const e = this.shift();
      if (e === undefined) break;
      const uid = e.pod.metadata.uid ?? '';
      if (uid === '' || this.queued.get(uid) !== e) continue;
      this.queued.delete(uid);
      return Promise.resolve(e.pod);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Where the pending pods wait: parked ones still backing off, or waiting for a cluster change. */
  counts(now = Date.now()): { active: number; backoff: number; unschedulable: number } {
    let backoff = 0;
    for (const u of this.unschedulable.values()) if (now - u.since < backoffMs(u.attempts)) backoff++;
    return { active: this.queued.size, backoff, unschedulable: this.unschedulable.size - backoff };
  }

  pending(): number {
    return this.queued.size + this.unschedulable.size;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pe = h[parent];
      if (pe === undefined || !before(e, pe)) break;
      h[i] = pe;
      i = parent;
    }
    h[i] = e;
  }

  private shift(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      const le = h[l];
      const re = h[r];
      if (le !== undefined && l < h.length && before(le, best)) {
        m = l;
        best = le;
      }
      if (re !== undefined && r < h.length && before(re, best)) m = r;
      const next = h[m];
      if (m === i || next === undefined) break;
      h[i] = next;
      i = m;
    }
    h[i] = last;
    return top;
  }
}
