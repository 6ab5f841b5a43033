// A pod's fsGroup owns its volumes, as the kubelet's SetVolumeOwnership does: every file and
// folder of an emptyDir, configMap, secret, downwardAPI or projected volume gets the group,
// group read (and write, for a writable volume) permission, and folders the setgid bit, so
// what the pod's processes create inherits the group. hostPath volumes are never touched.

import { chownSync, chmodSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** Kubernetes' masks: group read-write for writable volumes, group read for the rest. */
const READ_WRITE = 0o660;
const READ_ONLY = 0o440;
const SETGID = 0o2000;
const EXECUTE = 0o110;

export interface Ownership {
  fsGroup: number;
  readOnly: boolean;
  /** OnRootMismatch: skip the walk when the root already has the group (a big emptyDir). */
  onRootMismatch?: boolean;
}

function own(path: string, stat: Stats, opts: Ownership): void {
  chownSync(path, stat.uid, opts.fsGroup);
  let mask = opts.readOnly ? READ_ONLY : READ_WRITE;
  if (stat.isDirectory()) mask |= SETGID | EXECUTE;
  chmodSync(path, (stat.mode & 0o7777) | mask);
}

/** Gives the volume at dir to the fsGroup; symbolic links are neither followed nor changed. */
export function setVolumeOwnership(dir: string, opts: Ownership): void {
  const root = lstatSync(dir);
  if (opts.onRootMismatch === true && root.gid === opts.fsGroup && (root.mode & SETGID) !== 0) return;
  const pending = [dir];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    own(path, stat, opts);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) pending.push(join(path, entry));
  }
}
