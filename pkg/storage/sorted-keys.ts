// The keys of one bucket of the watch cache, in sorted order for prefix lists.
//
// Writes are O(1): new keys wait in an unsorted `added` list and removed keys are only
// marked. The first list after a change sorts the new keys and merges them in (O(n), and
// O(k log k) for the k new keys); lists with no change in between are a binary search plus
// the matching keys. A physically present key is live unless it is in `removed`.

export class SortedKeys {
  private sorted: string[] = [];
  private added: string[] = [];
  private readonly removed = new Set<string>();

  /** Records a key that was not live. */
  add(key: string): void {
    if (!this.removed.delete(key)) this.added.push(key);
  }

  /** Records that a live key is gone. */
  remove(key: string): void {
    this.removed.add(key);
  }

  /** Live keys starting with prefix, in ascending order. */
  withPrefix(prefix: string): string[] {
    this.settle();
    const keys = this.sorted;
    let i = lowerBound(keys, prefix);
    const out: string[] = [];
    for (; i < keys.length; i++) {
      const key = keys[i];
      if (key === undefined || !key.startsWith(prefix)) break;
      out.push(key);
    }
    return out;
  }

  private settle(): void {
    if (this.added.length === 0 && this.removed.size === 0) return;
    const fresh = this.added.sort(compare);
    const old = this.sorted;
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < old.length || j < fresh.length) {
      const a = old[i];
      const b = fresh[j];
      let next: string;
      if (b === undefined || (a !== undefined && a < b)) {
        next = a ?? '';
        i++;
      } else {
        next = b;
        j++;
      }
      if (!this.removed.has(next)) merged.push(next);
    }
    this.sorted = merged;
    this.added = [];
    this.removed.clear();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid];
    if (k !== undefined && k < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
