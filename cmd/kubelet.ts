#!/usr/bin/env node
// coxswain node agent: flags → KubeletConfig → Kubelet. First SIGTERM/SIGINT drains, a second exits.

import os from 'node:os';
import { Command } from 'commander';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import type { KubeletConfig } from '../pkg/kubelet/config.js';
import { Kubelet } from '../pkg/kubelet/kubelet.js';

function firstAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '127.0.0.1';
}

const program = new Command('kubelet')
  .description('Coxswain node agent: runs the pods bound to this node in Docker')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with this node\'s identity')
  .requiredOption('--tls-cert-file <file>', 'serving certificate for the logs/exec port')
  .requiredOption('--tls-private-key-file <file>', 'serving key')
  .requiredOption('--client-ca-file <file>', 'CA that signs the apiserver\'s client certificate')
  .option('--node-name <name>', 'name of this node', os.hostname())
  .option('--node-ip <ip>', 'address of this node', firstAddress())
  .option('--docker-socket <path>', 'Docker socket', '/var/run/docker.sock')
  .option('--root-dir <dir>', 'state folder (pod volumes)', '/var/lib/coxswain/kubelet')
  .option('--pod-network <name>', 'Docker network for pod sandboxes', 'bridge')
  .option('--sandbox-image <image>', 'pod sandbox image', 'coxswain/pause:latest')
  .option('--port <port>', 'HTTPS port for logs and exec', '10250')
  .option('--max-pods <n>', 'pods this node accepts', '110')
  .option('--node-labels <k=v,...>', 'extra labels of the Node', '')
  .option('--lease-duration <seconds>', 'node lease duration', '40')
  .option('--lease-renew-interval <seconds>', 'how often the lease is renewed', '10')
  .option('--node-status-update-frequency <seconds>', 'longest gap between node status updates', '60');
program.parse();
const o = program.opts<Record<string, string>>();

const labels: Record<string, string> = {};
for (const pair of (o['nodeLabels'] ?? '').split(',').filter((p) => p !== '')) {
  const [k, v] = pair.split('=');
  if (k) labels[k] = v ?? '';
}
const num = (name: string): number => {
  const v = Number(o[name]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`kubelet: --${name} must be a non-negative number\n`);
    process.exit(2);
  }
  return v;
};

const config: KubeletConfig = {
  nodeName: o['nodeName'] ?? os.hostname(),
  nodeIP: o['nodeIp'] ?? firstAddress(),
  dockerSocket: o['dockerSocket'] ?? '/var/run/docker.sock',
  rootDir: o['rootDir'] ?? '/var/lib/coxswain/kubelet',
  sandboxImage: o['sandboxImage'] ?? 'coxswain/pause:latest',
  podNetwork: o['podNetwork'] ?? 'bridge',
  port: num('port'),
  tlsCertFile: o['tlsCertFile'] ?? '',
  tlsKeyFile: o['tlsPrivateKeyFile'] ?? '',
  clientCaFile: o['clientCaFile'] ?? '',
  maxPods: num('maxPods'),
  leaseDurationSeconds: num('leaseDuration'),
  leaseRenewIntervalMs: num('leaseRenewInterval') * 1000,
  statusUpdateIntervalMs: num('nodeStatusUpdateFrequency') * 1000,
  relistIntervalMs: 1000,
  resyncIntervalMs: 10_000,
  labels,
};

const client = new RestClient(loadKubeconfig({ path: o['kubeconfig'] ?? '' }));
const abort = new AbortController();
const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) process.exit(1);
    abort.abort();
    setTimeout(() => process.exit(0), 500).unref();
  });
}
try {
  await new Kubelet(config, client, log).start(abort.signal);
} catch (err) {
  process.stderr.write(`kubelet: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
