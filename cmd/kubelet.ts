#!/usr/bin/env node
// coxswain node agent: flags → KubeletSettings → run. First SIGTERM/SIGINT drains, a second exits.

import os from 'node:os';
import { Command } from 'commander';
import { APISERVERS_FLAG_HELP } from '../pkg/client/index.js';
import { configOrExit, createLogger, processSignal } from '../pkg/component/index.js';
import { errorMessage } from '../pkg/errors/index.js';
import {
  firstAddress,
  KubeletStartError,
  kubeletSettings,
  run,
  teardown,
  type KubeletFlags,
} from '../pkg/kubelet/index.js';

const program = new Command('kubelet')
  .description('Coxswain node agent: runs the pods bound to this node in Docker')
  .option('--kubeconfig <file>', 'kubeconfig with this node\'s identity (made offline with "coxctl pki node")')
  .option('--tls-cert-file <file>', 'serving certificate for the logs/exec port (with --kubeconfig)')
  .option('--tls-private-key-file <file>', 'serving key (with --kubeconfig)')
  .option('--client-ca-file <file>', "CA that signs the apiserver's client certificate (with --kubeconfig)")
  .option(
    '--server <urls>',
    'join: the apiserver to join (instead of --kubeconfig); a comma-separated list is tried in turn and kept for later starts',
  )
  .option('--apiservers <urls>', APISERVERS_FLAG_HELP)
  .option('--token <token>', 'join: a bootstrap token from "coxctl token create"')
  .option('--discovery-token-ca-cert-hash <sha256:hex>', "join: hash of the cluster CA's public key, to pin it")
  .option(
    '--discovery-timeout <seconds>',
    'join: how long to keep trying while no apiserver answers or cluster-info has no signature for the token yet',
    '60',
  )
  .option('--node-name <name>', 'name of this node', os.hostname())
  .option('--node-ip <ip>', 'address of this node', firstAddress())
  .option('--docker-socket <path>', 'Docker socket', '/var/run/docker.sock')
  .option('--root-dir <dir>', 'state folder (pod volumes)', '/var/lib/coxswain/kubelet')
  .option(
    '--network <mode>',
    'host-gw (pod CIDR bridge, routes, service proxy, DNS) or none (Docker network --pod-network only)',
    'host-gw',
  )
  .option('--pod-network <name>', 'Docker network for pod sandboxes with --network none', 'bridge')
  .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.244.0.0/16')
  .option('--cluster-domain <domain>', 'DNS domain of the cluster', 'cluster.local')
  .option(
    '--cluster-dns <ips>',
    "comma-separated nameservers for pods (default: this agent's DNS on the pod gateway)",
    '',
  )
  .option('--sandbox-image <image>', 'pod sandbox image', 'coxswain/pause:latest')
  .option('--port <port>', 'HTTPS port for logs and exec', '10250')
  .option('--max-pods <n>', 'pods this node accepts', '110')
  .option('--node-labels <k=v,...>', 'extra labels of the Node', '')
  .option('--lease-duration <seconds>', 'node lease duration', '40')
  .option('--lease-renew-interval <seconds>', 'how often the lease is renewed', '10')
  .option('--node-status-update-frequency <seconds>', 'longest gap between node status updates', '60')
  .option('--ingress', 'serve the Ingresses of the class "coxswain" on this node (built-in ingress proxy)')
  .option('--ingress-http-port <port>', 'HTTP port of the ingress proxy on --node-ip', '80')
  .option('--ingress-https-port <port>', 'HTTPS port of the ingress proxy on --node-ip', '443')
  .option(
    '--teardown',
    'remove what this cluster made on this machine (containers, pod network, routes, iptables chains; the cluster is the CA of --client-ca-file, --kubeconfig or --root-dir) and exit',
  );
program.parse();

const flags = program.opts<KubeletFlags>();
const log = createLogger();
const fail = (err: unknown): never => {
  const msg = errorMessage(err);
  process.stderr.write(err instanceof KubeletStartError ? `kubelet: ${msg}\n` : `kubelet: failed to start: ${msg}\n`);
  process.exit(1);
};
if (flags.teardown === true) {
  await teardown(flags, log).catch(fail);
  process.exit(0);
}
const settings = configOrExit('kubelet', () => kubeletSettings(flags));
// Draining is short: what is still running after half a second is left to the next start.
const signal = processSignal({ onShutdown: () => setTimeout(() => process.exit(0), 500).unref() });
await run({ flags, settings, log }, signal).catch(fail);
