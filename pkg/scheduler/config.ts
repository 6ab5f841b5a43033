// The scheduler's one typed configuration (filled by cmd/scheduler.ts from flags).

import os from 'node:os';
import {
  apiserversFlag,
  leaderElectionConfig,
  type LeaderElectionConfig,
  type LeaderElectionFlags,
} from '../client/index.js';
import {
  SCHEDULER_SECURE_PORT,
  secureServingConfig,
  type SecureServingConfig,
  type SecureServingFlags,
} from '../component/index.js';

export interface SchedulerConfig {
  /** Kubeconfig with the scheduler's identity. */
  kubeconfig: string;
  /** --apiservers: used instead of the kubeconfig's server (undefined: that server). */
  apiservers: string[] | undefined;
  /** Lease kube-system/kube-scheduler; undefined runs without election. */
  election: LeaderElectionConfig | undefined;
  /** The secure port of /metrics and /healthz. */
  serving: SecureServingConfig;
}

export interface SchedulerFlags extends LeaderElectionFlags, SecureServingFlags {
  kubeconfig: string;
  apiservers?: string;
}

export function schedulerConfig(flags: SchedulerFlags): SchedulerConfig {
  return {
    kubeconfig: flags.kubeconfig,
    apiservers: apiserversFlag(flags.apiservers),
    election: leaderElectionConfig(flags, 'kube-scheduler', `${os.hostname()}_${process.pid}`),
    serving: secureServingConfig(flags, SCHEDULER_SECURE_PORT),
  };
}
