// One serialized worker per pod UID (the kubelet's pod workers): syncs of one pod never
// overlap, a request during a sync runs once more after it (the newest state wins), and
// a sync can ask to be run again after a delay.

import { errorMessage } from '../errors/index.js';

export class PodWorkers {
  private readonly busy = new Map<string, { again: boolean }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly syncOne: (uid: string) => Promise<number | undefined>,
    private readonly log: (msg: string) => void,
  ) {}

  update(uid: string): void {
    if (this.stopped) return;
    const state = this.busy.get(uid);
    if (state !== undefined) {
      state.again = true;
      return;
    }
    void this.run(uid);
  }

  private async run(uid: string): Promise<void> {
    const state = { again: false };
    this.busy.set(uid, state);
    let requeue: number | undefined;
    try {
      do {
        state.again = false;
        try {
          requeue = await this.syncOne(uid);
        } catch (err) {
          this.log(`sync of pod ${uid} failed: ${errorMessage(err)}`);
          requeue = 2000;
        }
      } while (state.again && !this.stopped);
    } finally {
      this.busy.delete(uid);
    }
    if (requeue !== undefined && !this.stopped) {
      const existing = this.timers.get(uid);
      if (existing) clearTimeout(existing);
      const t = setTimeout(
        () => {
          this.timers.delete(uid);
          this.update(uid);
        },
        Math.max(50, requeue),
      );
      t.unref();
      this.timers.set(uid, t);
    }
  }

  isBusy(uid: string): boolean {
    return this.busy.has(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
