// Store keys ↔ etcd keys: a store key's `root` is replaced by the etcd `prefix`
// (the apiserver: /registry/core/pods/ns/p under --etcd-prefix /coxswain is
// /coxswain/core/pods/ns/p). Keys compare bytewise in etcd, as UTF-8 in the SQLite store.

import { StorageError } from '../store.js';

export class EtcdKeys {
  private readonly root: string;
  private readonly prefix: string;
  /**
   * With a root, keys are `<root>/…` and etcd keys `<prefix>/…`: the slash keeps a cluster
   * under /registry from seeing one under /registry2.
   */
  private readonly sep: string;

  constructor(root: string, prefix: string) {
    this.root = root;
    this.prefix = prefix;
    this.sep = root === '' ? '' : '/';
  }

  toEtcd(key: string): Buffer {
    if (!key.startsWith(this.root + this.sep))
      throw new StorageError('Unavailable', `key ${key} is outside the store's root ${this.root}`, { key });
    return Buffer.from(this.prefix + key.slice(this.root.length), 'utf8');
  }

  /** The store key of an etcd key, or undefined when it is not one of ours. */
  fromEtcd(etcdKey: Buffer): string | undefined {
    const text = etcdKey.toString('utf8');
    return text.startsWith(this.prefix + this.sep) ? this.root + text.slice(this.prefix.length) : undefined;
  }

  /** The first key a list or watch of `prefix` covers. */
  rangeStart(prefix: string): Buffer {
    return this.range(prefix).start;
  }

  /**
   * The etcd range [start, end) that holds every key starting with `prefix`. A prefix shorter
   * than the root ('/' for '/registry') covers the whole root; callers filter the keys they get.
   */
  range(prefix: string): { start: Buffer; end: Buffer } {
    const whole = this.root !== '' && (this.root + this.sep).startsWith(prefix);
    const start = whole ? Buffer.from(this.prefix + this.sep, 'utf8') : this.toEtcd(prefix);
    return { start, end: prefixEnd(start) };
  }
}

/** The smallest key after every key that starts with `start` ("\0": no end). */
export function prefixEnd(start: Buffer): Buffer {
  const end = Buffer.from(start);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] ?? 0xff;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
