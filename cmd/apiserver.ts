#!/usr/bin/env node
// coxswain apiserver: flags → ApiServerConfig → ApiServer. First SIGTERM/SIGINT drains, a second exits.

import { Command, Option } from 'commander';
import { formatCidr, parseCidr } from '../pkg/api/cidr.js';
import { ApiServer, DEFAULT_CONFIG, type ApiServerConfig } from '../pkg/apiserver/index.js';

const program = new Command('apiserver')
  .description('Coxswain API server: the only door to cluster state')
  .requiredOption('--data-dir <dir>', 'folder of the embedded SQLite store')
  .requiredOption('--tls-cert-file <file>', 'serving certificate (PEM)')
  .requiredOption('--tls-private-key-file <file>', 'serving key (PEM)')
  .requiredOption('--client-ca-file <file>', 'CA that signs client certificates')
  .addOption(new Option('--secure-port <port>', 'HTTPS port').default(String(DEFAULT_CONFIG.securePort)))
  .addOption(new Option('--bind-address <addr>', 'address to listen on').default(DEFAULT_CONFIG.bindAddress))
  .addOption(new Option('--advertise-address <addr>', 'address advertised to clients').default(DEFAULT_CONFIG.advertiseAddress))
  .addOption(new Option('--max-request-bytes <n>', 'request body limit').default(String(DEFAULT_CONFIG.maxBodyBytes)))
  .addOption(new Option('--watch-history <revisions>', 'revisions kept for watch resumption').default(String(DEFAULT_CONFIG.historyRevisions)))
  .option('--kubelet-client-certificate <file>', 'client certificate for node agents (logs, exec)')
  .option('--kubelet-client-key <file>', 'key of that certificate')
  .addOption(new Option('--compaction-interval <seconds>', 'seconds between compactions of watch history').default('60'))
  .addOption(new Option('--bookmark-interval <seconds>', 'seconds between watch bookmarks').default('60'))
  .addOption(new Option('--service-cluster-ip-range <cidr>', 'CIDR the Services\' ClusterIPs come from').default(DEFAULT_CONFIG.serviceClusterIPRange))
  .addOption(new Option('--max-requests-inflight <n>', 'concurrent non-mutating requests before 429 (0: no limit)').default(String(DEFAULT_CONFIG.maxRequestsInflight)))
  .addOption(new Option('--max-mutating-requests-inflight <n>', 'concurrent mutating requests before 429 (0: no limit)').default(String(DEFAULT_CONFIG.maxMutatingRequestsInflight)))
  .addOption(new Option('--max-watches-per-user <n>', 'concurrent watches of one user before 429 (0: no limit)').default(String(DEFAULT_CONFIG.maxWatchesPerUser)))
  .addOption(new Option('--max-watches <n>', 'concurrent watches in total before 429 (0: no limit)').default(String(DEFAULT_CONFIG.maxWatches)))
  .addOption(new Option('--watch-max-buffer-bytes <n>', 'unread bytes after which a watcher is cut off').default(String(DEFAULT_CONFIG.watchMaxBufferedBytes)));

program.parse();
const o = program.opts<Record<string, string>>();

function int(name: string): number {
  const v = Number(o[name]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`apiserver: --${name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be a non-negative integer\n`);
    process.exit(2);
  }
  return v;
}

const serviceRange = o['serviceClusterIpRange'] ?? DEFAULT_CONFIG.serviceClusterIPRange;
const parsedRange = parseCidr(serviceRange);
if (parsedRange === undefined || parsedRange.bits < 8 || parsedRange.bits > 28) {
  process.stderr.write(`apiserver: --service-cluster-ip-range must be an IPv4 CIDR from /8 to /28, not "${serviceRange}"\n`);
  process.exit(2);
}

const config: ApiServerConfig = {
  ...DEFAULT_CONFIG,
  dataDir: o['dataDir'] ?? '',
  tlsCertFile: o['tlsCertFile'] ?? '',
  tlsKeyFile: o['tlsPrivateKeyFile'] ?? '',
  clientCaFile: o['clientCaFile'] ?? '',
  securePort: int('securePort'),
  bindAddress: o['bindAddress'] ?? DEFAULT_CONFIG.bindAddress,
  advertiseAddress: o['advertiseAddress'] ?? DEFAULT_CONFIG.advertiseAddress,
  serviceClusterIPRange: formatCidr(parsedRange),
  maxBodyBytes: int('maxRequestBytes'),
  historyRevisions: int('watchHistory'),
  bookmarkIntervalMs: int('bookmarkInterval') * 1000,
  compactionIntervalMs: Math.max(1, int('compactionInterval')) * 1000,
  maxRequestsInflight: int('maxRequestsInflight'),
  maxMutatingRequestsInflight: int('maxMutatingRequestsInflight'),
  maxWatchesPerUser: int('maxWatchesPerUser'),
  maxWatches: int('maxWatches'),
  watchMaxBufferedBytes: Math.max(1, int('watchMaxBufferBytes')),
  ...(o['kubeletClientCertificate'] ? { kubeletClientCertFile: o['kubeletClientCertificate'] } : {}),
  ...(o['kubeletClientKey'] ? { kubeletClientKeyFile: o['kubeletClientKey'] } : {}),
};

const server = await ApiServer.start(config).catch((err: unknown) => {
  process.stderr.write(`apiserver: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
// Readiness is signalled on stdout, never slept for.
process.stdout.write(`apiserver listening on https://${config.bindAddress}:${server.port}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void server.close().then(() => process.exit(0));
  });
}
