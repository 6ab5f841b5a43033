// Controller expectations (as in Kubernetes' ReplicaSet controller): after creating or
// deleting pods, a controller waits until its informer has seen those changes before it
// counts again, so a quick second reconcile does not create duplicates.

const TTL_MS = 30_000;

interface Expected {
  adds: number;
  deletes: number;
  at: number;
}

export class Expectations {
  private readonly map = new Map<string, Expected>();

  expect(key: string, adds: number, deletes: number): void {
    this.map.set(key, { adds, deletes, at: Date.now() });
  }

  observeAdd(key: string): void {
    const e = this.map.get(key);
    if (e) e.adds--;
  }

  observeDelete(key: string): void {
    const e = this.map.get(key);
    if (e) e.deletes--;
  }

  /** Nothing outstanding (or it has been too long: recount anyway). */
  satisfied(key: string): boolean {
    const e = this.map.get(key);
    if (e === undefined) return true;
    if ((e.adds <= 0 && e.deletes <= 0) || Date.now() - e.at > TTL_MS) {
      this.map.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.map.delete(key);
  }
}
