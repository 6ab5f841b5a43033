export { DEFAULT_BACKOFF, RestartBackoff, type BackoffPolicy } from './backoff.js';
export { addChild, claimPidFile, releasePidFile, startDetached } from './control.js';
export { childLogFile, childPidFile, ensureLayout, isAlive, layoutOf, livePid, type Layout } from './layout.js';
export { readSpecs, validName, writeSpec, type ChildSpec } from './spec.js';
export { DEFAULT_GRACE_PERIOD_MS, Supervisor, type SupervisorConfig } from './supervisor.js';
export { execWord, systemdUnits, type SystemdOptions } from './systemd.js';
export { run, writeSystemdUnits, type SupervisorRunConfig, type SystemdWriteOptions } from './run.js';
export {
  addCommand,
  childName,
  fail,
  runCommand,
  seconds,
  startCommand,
  systemdCommand,
  type AddFlags,
  type RunFlags,
  type SystemdFlags,
} from './commands.js';
