// The controller-manager's one typed configuration, checked here from its flags (strings).

import os from 'node:os';
import { parseCidr } from '../api/cidr.js';
import { parseDurationSeconds } from '../api/duration.js';
import {
  apiserversFlag,
  leaderElectionConfig,
  type LeaderElectionConfig,
  type LeaderElectionFlags,
} from '../client/index.js';
import {
  CONTROLLER_MANAGER_SECURE_PORT,
  ConfigError,
  secureServingConfig,
  type SecureServingConfig,
  type SecureServingFlags,
} from '../component/index.js';
import { CONTROLLER_NAMES, type ControllerManagerOptions, type ControllerName } from './index.js';

export interface ControllerManagerConfig extends Omit<
  ControllerManagerOptions,
  'client' | 'log' | 'rootCaPem' | 'credentialsClock'
> {
  /** --root-ca-file; without it the CA of the kubeconfig is published. */
  rootCaFile?: string;
  /** Kubeconfig with the controller-manager's identity. */
  kubeconfig: string;
  /** --apiservers: used instead of the kubeconfig's server (undefined: that server). */
  apiservers: string[] | undefined;
  /** Lease kube-system/kube-controller-manager; undefined runs without election. */
  election: LeaderElectionConfig | undefined;
  /** The secure port of /metrics and /healthz. */
  serving: SecureServingConfig;
}

export interface ControllerManagerFlags extends LeaderElectionFlags, SecureServingFlags {
  kubeconfig: string;
  apiservers?: string;
  controllers: string;
  nodeMonitorGracePeriod: string;
  clusterSigningCertFile?: string;
  clusterSigningKeyFile?: string;
  clusterSigningDuration: string;
  allocateNodeCidrs: string;
  clusterCidr: string;
  nodeCidrMaskSize: string;
  terminatedPodGcThreshold: string;
  podGcQuarantine: string;
  podGcPeriod: string;
  rootCaFile?: string;
  useServiceAccountCredentials: string;
  horizontalPodAutoscalerSyncPeriod?: string;
  horizontalPodAutoscalerDownscaleStabilization?: string;
}

function wholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${flag}: "${value}" is not a whole number >= ${min}`);
  return n;
}

function isControllerName(name: string): name is ControllerName {
  return CONTROLLER_NAMES.some((c) => c === name);
}

/** Throws a ConfigError naming the first flag it cannot accept. */
export function controllerManagerConfig(o: ControllerManagerFlags): ControllerManagerConfig {
  const signingSeconds = parseDurationSeconds(o.clusterSigningDuration);
  if (signingSeconds === undefined)
    throw new ConfigError(`--cluster-signing-duration: "${o.clusterSigningDuration}" is not a duration`);
  if ((o.clusterSigningCertFile === undefined) !== (o.clusterSigningKeyFile === undefined)) {
    throw new ConfigError('--cluster-signing-cert-file and --cluster-signing-key-file go together');
  }
  const podGc = {
    terminatedPodThreshold: wholeNumber('--terminated-pod-gc-threshold', o.terminatedPodGcThreshold, 0),
    quarantineMs: wholeNumber('--pod-gc-quarantine', o.podGcQuarantine, 0) * 1000,
    periodMs: wholeNumber('--pod-gc-period', o.podGcPeriod, 1) * 1000,
  };
  if (o.useServiceAccountCredentials !== 'true' && o.useServiceAccountCredentials !== 'false')
    throw new ConfigError(
      `--use-service-account-credentials: "${o.useServiceAccountCredentials}" is not true or false`,
    );
  const hpaSyncFlag = o.horizontalPodAutoscalerSyncPeriod ?? '15s';
  const hpaSync = parseDurationSeconds(hpaSyncFlag);
  if (hpaSync === undefined || hpaSync <= 0)
    throw new ConfigError(`--horizontal-pod-autoscaler-sync-period: "${hpaSyncFlag}" is not a positive duration`);
  const hpaDownscaleFlag = o.horizontalPodAutoscalerDownscaleStabilization ?? '5m0s';
  const hpaDownscale = parseDurationSeconds(hpaDownscaleFlag);
  if (hpaDownscale === undefined || hpaDownscale < 0)
    throw new ConfigError(
      `--horizontal-pod-autoscaler-downscale-stabilization: "${hpaDownscaleFlag}" is not a duration`,
    );
  if (parseCidr(o.clusterCidr) === undefined)
    throw new ConfigError(`--cluster-cidr: "${o.clusterCidr}" is not an IPv4 CIDR`);
  const wanted = o.controllers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = wanted.filter((n) => !isControllerName(n));
  if (unknown.length > 0) throw new ConfigError(`unknown controllers: ${unknown.join(', ')}`);
  return {
    kubeconfig: o.kubeconfig,
    apiservers: apiserversFlag(o.apiservers),
    election: leaderElectionConfig(o, 'kube-controller-manager', `${os.hostname()}_${process.pid}`),
    serving: secureServingConfig(o, CONTROLLER_MANAGER_SECURE_PORT),
    controllers: wanted.filter(isControllerName),
    nodeMonitorGracePeriodMs: Number(o.nodeMonitorGracePeriod) * 1000,
    podGc,
    useServiceAccountCredentials: o.useServiceAccountCredentials === 'true',
    podAutoscaler: { syncPeriodMs: hpaSync * 1000, downscaleStabilizationSeconds: hpaDownscale },
    ...(o.rootCaFile === undefined ? {} : { rootCaFile: o.rootCaFile }),
    ...(o.clusterSigningCertFile !== undefined && o.clusterSigningKeyFile !== undefined
      ? {
          signing: {
            caCertFile: o.clusterSigningCertFile,
            caKeyFile: o.clusterSigningKeyFile,
            maxDurationSeconds: signingSeconds,
          },
        }
      : {}),
    ...(o.allocateNodeCidrs !== 'false'
      ? { nodeIpam: { clusterCIDR: o.clusterCidr, nodeMaskSize: Number(o.nodeCidrMaskSize) } }
      : {}),
  };
}
