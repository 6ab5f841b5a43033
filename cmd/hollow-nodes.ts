#!/usr/bin/env node
// coxswain hollow-nodes: N node agents in one process, the real agent code on the in-memory
// runtime (pkg/kubelet/hollow.ts), for scale tests as Kubernetes' kubemark. Each gets its own
// node certificate, issued here from the cluster CA. First SIGTERM/SIGINT stops them.

import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, configOrExit, processSignal } from '../pkg/component/index.js';
import { startHollowNodes } from '../pkg/kubelet/hollow.js';
import { errorMessage } from '../pkg/errors/index.js';

const program = new Command('hollow-nodes')
  .description('Coxswain hollow nodes: many node agents on an in-memory container runtime, for scale tests')
  .requiredOption('--server <url>', "the apiserver's URL")
  .requiredOption('--ca-cert <file>', 'the cluster CA certificate')
  .requiredOption('--ca-key <file>', "the cluster CA's key (each node's certificate is issued from it)")
  .option('--count <n>', 'how many hollow nodes', '10')
  .option('--prefix <name>', 'node names are PREFIX-0, PREFIX-1, …', 'hollow')
  .option('--root-dir <dir>', 'state folder', '/tmp/coxswain-hollow')
  .option('--lease-renew-interval <seconds>', 'how often each node renews its Lease', '10');
program.parse();

interface Flags {
  server: string;
  caCert: string;
  caKey: string;
  count: string;
  prefix: string;
  rootDir: string;
  leaseRenewInterval: string;
}

const flags = configOrExit('hollow-nodes', () => {
  const o = program.opts<Flags>();
  const count = Number(o.count);
  if (!Number.isInteger(count) || count < 1 || count > 5000) throw new ConfigError('--count must be 1 to 5000');
  const renew = Number(o.leaseRenewInterval);
  if (!Number.isFinite(renew) || renew <= 0) throw new ConfigError('--lease-renew-interval must be a positive number');
  if (!/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(o.prefix))
    throw new ConfigError('--prefix must be a short DNS label');
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${errorMessage(err)}`);
    }
  };
  return { ...o, count, renewMs: renew * 1000, ca: { certPem: read(o.caCert), keyPem: read(o.caKey) } };
});

const signal = processSignal();
// Every agent's informers, servers and clients listen for the one stop signal.
setMaxListeners(0, signal);
const log = (m: string): void => void process.stderr.write(`hollow-nodes: ${m}\n`);
const fleet = await startHollowNodes(
  {
    count: flags.count,
    prefix: flags.prefix,
    server: flags.server,
    ca: flags.ca,
    rootDir: flags.rootDir,
    leaseRenewIntervalMs: flags.renewMs,
    log,
  },
  signal,
);
process.stdout.write(
  `${fleet.names.length} hollow nodes ready; heap ${fleet.heapPerNodeMiB.toFixed(2)} MiB per node\n`,
);
