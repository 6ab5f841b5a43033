// Writes a pod's resolv.conf under its folder, for its containers to mount.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../api/types/index.js';
import { writeAtomic } from './files.js';
import { podResolvConf, renderResolvConf, type ClusterDns } from './pod-dns.js';
import { podDir } from './volumes.js';

/** The file's path, or undefined when the pod keeps the runtime's default. */
export function writePodResolvConf(rootDir: string, pod: Pod, dns: ClusterDns | undefined): string | undefined {
  const conf = podResolvConf(pod.spec ?? {}, pod.metadata.namespace ?? 'default', dns);
  if (conf === undefined) return undefined;
  const dir = podDir(rootDir, pod.metadata.uid ?? '');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'resolv.conf');
  writeAtomic(path, renderResolvConf(conf), 0o644);
  return path;
}
