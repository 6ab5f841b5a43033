#!/usr/bin/env node
// coxswain controller-manager: flags → ControllerManagerConfig → run. First SIGTERM/SIGINT drains, a second exits.

import { Command } from 'commander';
import { APISERVERS_FLAG_HELP } from '../pkg/client/index.js';
import { configOrExit, processSignal, SECURE_SERVING_OPTIONS } from '../pkg/component/index.js';
import { CONTROLLER_NAMES } from '../pkg/controllers/index.js';
// config and run sit beside the index (they build on it; re-exporting them there would make a cycle).
import { controllerManagerConfig, type ControllerManagerFlags } from '../pkg/controllers/config.js';
import { run } from '../pkg/controllers/run.js';

const program = new Command('controller-manager')
  .description('Coxswain controller-manager: turns desired state into actual state')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with the controller-manager identity')
  .option('--apiservers <urls>', APISERVERS_FLAG_HELP)
  .option(
    '--controllers <names>',
    `comma-separated controllers to run (${CONTROLLER_NAMES.join(',')})`,
    CONTROLLER_NAMES.join(','),
  )
  .option('--node-monitor-grace-period <seconds>', 'how long a node may go without renewing its lease', '50')
  .option('--cluster-signing-cert-file <file>', 'CA certificate that signs kubelet certificates (csrsigning)')
  .option('--cluster-signing-key-file <file>', 'key of that CA')
  .option('--cluster-signing-duration <duration>', 'longest validity of a signed certificate', '8760h')
  .option('--allocate-node-cidrs <bool>', 'give every node a pod CIDR (nodeipam)', 'true')
  .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.244.0.0/16')
  .option('--node-cidr-mask-size <bits>', "size of each node's pod CIDR", '24')
  .option(
    '--terminated-pod-gc-threshold <n>',
    'terminated pods kept before the oldest are deleted (0: keep all)',
    '12500',
  )
  .option('--pod-gc-quarantine <seconds>', 'how long a Node must be missing before its pods are deleted', '40')
  .option('--pod-gc-period <seconds>', 'time between pod garbage collection passes', '20')
  .option(
    '--root-ca-file <file>',
    'CA bundle published as kube-root-ca.crt in every namespace (default: the kubeconfig CA)',
  )
  .option('--horizontal-pod-autoscaler-sync-period <duration>', 'time between HPA syncs', '15s')
  .option(
    '--horizontal-pod-autoscaler-downscale-stabilization <duration>',
    'how far back the HPA looks for a higher recommendation before scaling down',
    '5m0s',
  )
  .option('--use-service-account-credentials <bool>', 'each controller writes as its own ServiceAccount', 'true')
  .option('--leader-elect <bool>', 'elect a leader among controller-managers', 'true')
  .option('--leader-elect-lease-duration <seconds>', 'lease duration', '15')
  .option('--leader-elect-renew-deadline <seconds>', 'renew deadline', '10')
  .option('--leader-elect-retry-period <seconds>', 'retry period', '2');
for (const [flag, help] of SECURE_SERVING_OPTIONS) program.option(flag, help);
program.parse();

const config = configOrExit('controller-manager', () =>
  controllerManagerConfig(program.opts<ControllerManagerFlags>()),
);
await run(config, processSignal());
