// The scheduler's one typed configuration (filled by cmd/scheduler.ts from flags).

import os from 'node:os';
import {
  apiserversFlag,
  leaderElectionConfig,
  type LeaderElectionConfig,
  type LeaderElectionFlags,
} from '../client/index.js';

export interface SchedulerConfig {
  /** Kubeconfig with the scheduler's identity. */
  kubeconfig: string;
  /** --apiservers: used instead of the kubeconfig's server (undefined: that server). */
  apiservers: string[] | undefined;
  /** Lease kube-system/kube-scheduler; undefined runs without election. */
  election: LeaderElectionConfig | undefined;
}

export interface SchedulerFlags extends LeaderElectionFlags {
  kubeconfig: string;
  apiservers?: string;
}

export function schedulerConfig(flags: SchedulerFlags): SchedulerConfig {
  return {
    kubeconfig: flags.kubeconfig,
    apiservers: apiserversFlag(flags.apiservers),
    election: leaderElectionConfig(flags, 'kube-scheduler', `${os.hostname()}_${process.pid}`),
  };
}
