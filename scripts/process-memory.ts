// Memory of a running process, for the benchmarks: resident set (RSS) and proportional set
// (PSS). Several Node processes share the pages of the node binary and its libraries (about
// 50 MiB each here); RSS counts them in every process, PSS divides them among the processes
// that map them, so PSS adds up across processes to what the machine really holds.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  rssMiB: number;
  pssMiB: number;
}

/** From /proc/<pid>/smaps_rollup; NaN when the process is gone or has no pid. */
export function processMemory(p: ChildProcess | undefined): ProcessMemory {
  const none = { rssMiB: Number.NaN, pssMiB: Number.NaN };
  if (p?.pid === undefined) return none;
  let text: string;
  try {
    text = readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8');
  } catch {
    return none;
  }
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  };
  return { rssMiB: kib('Rss'), pssMiB: kib('Pss') };
}
