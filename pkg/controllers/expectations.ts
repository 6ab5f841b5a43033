// Controller expectations (Kubernetes' UIDTrackingControllerExpectations): after creating
// or deleting pods, a controller waits until its informer has seen those changes before it
// counts again, so a quick second reconcile does not create or delete twice. Creations are
// a count; deletions are the pod UIDs, so the same deletion seen twice (deletionTimestamp
// set, then the object gone) is counted once. Every operation is O(1) or O(uids) — never
// a loop over a count taken from an object.

const TTL_MS = 30_000;

interface Expected {
  adds: number;
  deletes: Set<string>;
  at: number;
}

export class Expectations {
  private readonly map = new Map<string, Expected>();

  /** Before acting: expect `adds` creations and the deletion of these pods. */
  expect(key: string, adds: number, deleteUids: readonly string[] = []): void {
    this.map.set(key, { adds, deletes: new Set(deleteUids), at: Date.now() });
  }

  /** `n` creations seen (or given up: a failed or skipped create lowers the count too). */
  observeAdd(key: string, n = 1): void {
    const e = this.map.get(key);
    if (e !== undefined) e.adds -= n;
  }

  /** A pod seen terminating or gone (or its delete given up). */
  observeDelete(key: string, uid: string): void {
    this.map.get(key)?.deletes.delete(uid);
  }

  /** Nothing outstanding (or it has been too long: recount anyway). */
  satisfied(key: string): boolean {
    const e = this.map.get(key);
    if (e === undefined) return true;
    if ((e.adds <= 0 && e.deletes.size === 0) || Date.now() - e.at > TTL_MS) {
      this.map.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.map.delete(key);
  }
}
