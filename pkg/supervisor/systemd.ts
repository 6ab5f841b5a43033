// The same supervision as systemd units, for real machines whose init system should own the
// processes: one service per child (Restart=always with the supervisor's back-off, output
// appended to the same log file, SIGTERM then SIGKILL after the grace period), started in the
// order they were added, all tied to one target.

import type { BackoffPolicy } from './backoff.js';
import { childLogFile, layoutOf } from './layout.js';
import type { ChildSpec } from './spec.js';

export interface SystemdOptions {
  stateDir: string;
  /** Names the units: <prefix>-<child>.service and <prefix>.target. */
  prefix: string;
  gracePeriodMs: number;
  backoff: BackoffPolicy;
}

/** One word of an ExecStart= line: quoted, with systemd's specifiers and variables escaped. */
export function execWord(word: string): string {
  const escaped = word
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/%/g, '%%')
    .replace(/\$/g, '$$$$')
    .replace(/\n/g, '\\n');
  return `"${escaped}"`;
}

const ms = (n: number): string => `${n}ms`;

/** Steps of doubling from the first wait to the longest (systemd's RestartSteps). */
function doublingSteps(policy: BackoffPolicy): number {
  let steps = 0;
  for (let wait = policy.initialMs; wait < policy.maxMs && steps < 32; wait *= 2) steps += 1;
  return steps;
}

/** File name → contents of every unit for these children (specs in start order). */
export function systemdUnits(specs: ChildSpec[], opts: SystemdOptions): Map<string, string> {
  const layout = layoutOf(opts.stateDir);
  const target = `${opts.prefix}.target`;
  const units = new Map<string, string>();
  const names = specs.map((s) => `${opts.prefix}-${s.name}.service`);
  specs.forEach((spec, i) => {
    const after = names.slice(0, i);
    units.set(
      names[i] ?? '',
      [
        '[Unit]',
        `Description=Coxswain ${spec.name} (${opts.stateDir})`,
        `PartOf=${target}`,
        ...(after.length > 0 ? [`After=${after.join(' ')}`] : []),
        // Never give up restarting: the back-off below paces it.
        'StartLimitIntervalSec=0',
        '',
        '[Service]',
        `ExecStart=${[spec.command, ...spec.args].map(execWord).join(' ')}`,
        `WorkingDirectory=${spec.cwd}`,
        'Restart=always',
        `RestartSec=${ms(opts.backoff.initialMs)}`,
        `RestartSteps=${doublingSteps(opts.backoff)}`,
        `RestartMaxDelaySec=${ms(opts.backoff.maxMs)}`,
        `TimeoutStopSec=${ms(opts.gracePeriodMs)}`,
        `StandardOutput=append:${childLogFile(layout, spec.name)}`,
        'StandardError=inherit',
        '',
        '[Install]',
        `WantedBy=${target}`,
        '',
      ].join('\n'),
    );
  });
  units.set(
    target,
    [
      '[Unit]',
      `Description=Coxswain cluster (${opts.stateDir})`,
      ...(names.length > 0 ? [`Wants=${names.join(' ')}`] : []),
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  );
  return units;
}
