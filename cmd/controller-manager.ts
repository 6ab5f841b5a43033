#!/usr/bin/env node
// coxswain controller-manager: flags → client → leader election → controllers. First SIGTERM/SIGINT drains, a second exits.

import os from 'node:os';
import { Command } from 'commander';
import { LeaderElector, loadKubeconfig, RestClient, runLeaderElected } from '../pkg/client/index.js';
import { CONTROLLER_NAMES, runControllers, type ControllerManagerOptions, type ControllerName } from '../pkg/controllers/index.js';
import { parseDurationSeconds } from '../pkg/api/duration.js';
import { parseCidr } from '../pkg/api/cidr.js';

const program = new Command('controller-manager')
  .description('Coxswain controller-manager: turns desired state into actual state')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with the controller-manager identity')
  .option('--controllers <names>', `comma-separated controllers to run (${CONTROLLER_NAMES.join(',')})`, CONTROLLER_NAMES.join(','))
  .option('--node-monitor-grace-period <seconds>', 'how long a node may go without renewing its lease', '50')
  .option('--cluster-signing-cert-file <file>', 'CA certificate that signs kubelet certificates (csrsigning)')
  .option('--cluster-signing-key-file <file>', 'key of that CA')
  .option('--cluster-signing-duration <duration>', 'longest validity of a signed certificate', '8760h')
  .option('--allocate-node-cidrs <bool>', 'give every node a pod CIDR (nodeipam)', 'true')
  .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.244.0.0/16')
  .option('--node-cidr-mask-size <bits>', 'size of each node\'s pod CIDR', '24')
  .option('--terminated-pod-gc-threshold <n>', 'terminated pods kept before the oldest are deleted (0: keep all)', '12500')
  .option('--pod-gc-quarantine <seconds>', 'how long a Node must be missing before its pods are deleted', '40')
  .option('--pod-gc-period <seconds>', 'time between pod garbage collection passes', '20')
  .option('--leader-elect <bool>', 'elect a leader among controller-managers', 'true')
  .option('--leader-elect-lease-duration <seconds>', 'lease duration', '15')
  .option('--leader-elect-renew-deadline <seconds>', 'renew deadline', '10')
  .option('--leader-elect-retry-period <seconds>', 'retry period', '2');
program.parse();
const o = program.opts<{
  kubeconfig: string; controllers: string; nodeMonitorGracePeriod: string; leaderElect: string; leaderElectLeaseDuration: string; leaderElectRenewDeadline: string; leaderElectRetryPeriod: string;
  clusterSigningCertFile?: string; clusterSigningKeyFile?: string; clusterSigningDuration: string; allocateNodeCidrs: string; clusterCidr: string; nodeCidrMaskSize: string;
  terminatedPodGcThreshold: string; podGcQuarantine: string; podGcPeriod: string;
}>();
const fail = (msg: string): never => {
  process.stderr.write(`controller-manager: ${msg}\n`);
  process.exit(2);
};
const signingSeconds = parseDurationSeconds(o.clusterSigningDuration) ?? fail(`--cluster-signing-duration: "${o.clusterSigningDuration}" is not a duration`);
if ((o.clusterSigningCertFile === undefined) !== (o.clusterSigningKeyFile === undefined)) fail('--cluster-signing-cert-file and --cluster-signing-key-file go together');
const wholeNumber = (flag: string, value: string, min: number): number => {
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min ? n : fail(`${flag}: "${value}" is not a whole number >= ${min}`);
};
const podGc = {
  terminatedPodThreshold: wholeNumber('--terminated-pod-gc-threshold', o.terminatedPodGcThreshold, 0),
  quarantineMs: wholeNumber('--pod-gc-quarantine', o.podGcQuarantine, 0) * 1000,
  periodMs: wholeNumber('--pod-gc-period', o.podGcPeriod, 1) * 1000,
};
if (parseCidr(o.clusterCidr) === undefined) fail(`--cluster-cidr: "${o.clusterCidr}" is not an IPv4 CIDR`);

const wanted = o.controllers.split(',').map((s) => s.trim()).filter((s) => s !== '');
const unknown = wanted.filter((n) => !(CONTROLLER_NAMES as readonly string[]).includes(n));
if (unknown.length > 0) {
  process.stderr.write(`controller-manager: unknown controllers: ${unknown.join(', ')}\n`);
  process.exit(2);
}

const client = new RestClient(loadKubeconfig({ path: o.kubeconfig }));
const abort = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) process.exit(1);
    abort.abort();
  });
}
const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};
const options: ControllerManagerOptions = {
  client,
  controllers: wanted as ControllerName[],
  log,
  nodeMonitorGracePeriodMs: Number(o.nodeMonitorGracePeriod) * 1000,
  podGc,
  ...(o.clusterSigningCertFile !== undefined && o.clusterSigningKeyFile !== undefined
    ? { signing: { caCertFile: o.clusterSigningCertFile, caKeyFile: o.clusterSigningKeyFile, maxDurationSeconds: signingSeconds } }
    : {}),
  ...(o.allocateNodeCidrs !== 'false' ? { nodeIpam: { clusterCIDR: o.clusterCidr, nodeMaskSize: Number(o.nodeCidrMaskSize) } } : {}),
};
if (o.leaderElect === 'false') {
  await runControllers(options, abort.signal);
} else {
  const elector = new LeaderElector(client, {
    namespace: 'kube-system',
    name: 'kube-controller-manager',
    identity: `${os.hostname()}_${process.pid}`,
    leaseDurationSeconds: Number(o.leaderElectLeaseDuration),
    renewDeadlineMs: Number(o.leaderElectRenewDeadline) * 1000,
    retryPeriodMs: Number(o.leaderElectRetryPeriod) * 1000,
  });
  // Each term runs the controllers on fresh informers; losing the lease stops them and campaigns again.
  await runLeaderElected(elector, abort.signal, { log, lead: (term) => runControllers(options, term) });
}
client.close();
