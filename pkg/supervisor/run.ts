// What the supervisor's commands do, apart from their flag definitions in cmd/supervisor.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../component/index.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { claimPidFile, releasePidFile } from './control.js';
import { layoutOf } from './layout.js';
import { readSpecs } from './spec.js';
import { Supervisor } from './supervisor.js';
import { systemdUnits } from './systemd.js';

export interface SupervisorRunConfig {
  stateDir: string;
  gracePeriodMs: number;
  log: Logger;
}

/** Supervises the children under stateDir until `signal` aborts; false when another supervisor already runs there. */
export async function run(config: SupervisorRunConfig, signal: AbortSignal): Promise<boolean> {
  const { stateDir, log } = config;
  const layout = layoutOf(stateDir);
  const supervisor = new Supervisor({
    stateDir,
    gracePeriodMs: config.gracePeriodMs,
    backoff: DEFAULT_BACKOFF,
    log: (msg) => log.info(msg),
  });
  process.on('SIGHUP', () => supervisor.reload());
  // The PID file is written only once SIGHUP is handled: `add` signals whoever it names.
  if (!claimPidFile(layout)) return false;
  log.info(`supervisor of ${stateDir} running (pid ${process.pid})`);
  try {
    await supervisor.run(signal);
  } finally {
    releasePidFile(layout);
  }
  log.info('supervisor stopped');
  return true;
}

export interface SystemdWriteOptions {
  stateDir: string;
  out: string;
  prefix: string;
  gracePeriodMs: number;
  /** Told each file written. */
  wrote: (file: string) => void;
}

/** Writes the units; throws when nothing is supervised under stateDir. */
export function writeSystemdUnits(o: SystemdWriteOptions): void {
  const specs =
    readSpecs(layoutOf(o.stateDir), (msg) => {
      throw new Error(msg);
    }) ?? [];
  if (specs.length === 0) throw new Error(`nothing is supervised under ${o.stateDir} (run npm run up first)`);
  mkdirSync(o.out, { recursive: true });
  for (const [file, text] of systemdUnits(specs, {
    stateDir: o.stateDir,
    prefix: o.prefix,
    gracePeriodMs: o.gracePeriodMs,
    backoff: DEFAULT_BACKOFF,
  })) {
    writeFileSync(join(o.out, file), text);
    o.wrote(join(o.out, file));
  }
}
