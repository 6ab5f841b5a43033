// Files the agent writes whole or not at all (keys, certificates, resolv.conf): a crash
// never leaves half of one behind.

import { renameSync, writeFileSync } from 'node:fs';

export function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}
