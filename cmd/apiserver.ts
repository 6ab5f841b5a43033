#!/usr/bin/env node
// coxswain apiserver: flags → ApiServerConfig → run. First SIGTERM/SIGINT drains, a second exits.

import { Command, Option } from 'commander';
import { apiServerConfig, AUDIT_FLAG_HELP, DEFAULT_CONFIG, run, type ApiServerFlags } from '../pkg/apiserver/index.js';
import { configOrExit, processSignal } from '../pkg/component/index.js';
import { errorMessage } from '../pkg/errors/index.js';

const d = (value: string | number): string => String(value);
const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];
const program = new Command('apiserver')
  .description('Coxswain API server: the only door to cluster state')
  .option('--data-dir <dir>', 'folder of the embedded SQLite store (not used with --etcd-servers)')
  .option('--etcd-servers <urls>', 'comma-separated etcd client URLs: the store is etcd instead of SQLite')
  .addOption(new Option('--etcd-prefix <prefix>', 'prefix of every key in etcd').default('/registry'))
  .option('--etcd-cafile <file>', "CA of etcd's serving certificate (PEM)")
  .option('--etcd-certfile <file>', 'client certificate presented to etcd (PEM)')
  .option('--etcd-keyfile <file>', 'key of that certificate (PEM)')
  .requiredOption('--tls-cert-file <file>', 'serving certificate (PEM)')
  .requiredOption('--tls-private-key-file <file>', 'serving key (PEM)')
  .requiredOption('--client-ca-file <file>', 'CA that signs client certificates')
  .option('--advertise-address <ip>', 'where pods and nodes reach this apiserver (default: default-route address)', '')
  .option('--kubelet-client-certificate <file>', 'client certificate for node agents (logs, exec)')
  .option('--kubelet-client-key <file>', 'key of that certificate');
const defaults: [string, string, string][] = [
  ['--secure-port <port>', 'HTTPS port', d(DEFAULT_CONFIG.securePort)],
  ['--bind-address <addr>', 'address to listen on', DEFAULT_CONFIG.bindAddress],
  ['--max-request-bytes <n>', 'request body limit', d(DEFAULT_CONFIG.maxBodyBytes)],
  ['--watch-history <revisions>', 'revisions kept for watch resumption', d(DEFAULT_CONFIG.historyRevisions)],
  ['--compaction-interval <seconds>', 'seconds between history compactions', '60'],
  ['--bookmark-interval <seconds>', 'seconds between watch bookmarks', '60'],
  [
    '--service-cluster-ip-range <cidr>',
    "CIDR the Services' ClusterIPs come from",
    DEFAULT_CONFIG.serviceClusterIPRange,
  ],
  [
    '--max-requests-inflight <n>',
    'concurrent non-mutating requests before 429 (0: no limit)',
    d(DEFAULT_CONFIG.maxRequestsInflight),
  ],
  [
    '--max-mutating-requests-inflight <n>',
    'concurrent mutating requests before 429 (0: no limit)',
    d(DEFAULT_CONFIG.maxMutatingRequestsInflight),
  ],
  [
    '--max-watches-per-user <n>',
    'concurrent watches of one user before 429 (0: no limit)',
    d(DEFAULT_CONFIG.maxWatchesPerUser),
  ],
  ['--max-watches <n>', 'concurrent watches in total before 429 (0: no limit)', d(DEFAULT_CONFIG.maxWatches)],
  [
    '--watch-max-buffer-bytes <n>',
    'unread bytes after which a watcher is cut off',
    d(DEFAULT_CONFIG.watchMaxBufferedBytes),
  ],
];
for (const [flag, help, value] of defaults) program.addOption(new Option(flag, help).default(value));
program
  .option('--service-account-signing-key-file <file>', 'key that signs ServiceAccount tokens (PEM)')
  .option('--service-account-key-file <file>', 'public keys that verify ServiceAccount tokens (PEM)')
  .option('--service-account-issuer <url>', 'token issuer (repeatable: the first signs, all verify)', repeat)
  .option('--api-audiences <list>', 'comma-separated audiences the API accepts (default: the first issuer)')
  .option('--service-account-max-token-expiration <seconds>', 'longest token lifetime (0: no cap)')
  .option('--pod-security-default <level>', 'Pod Security level of unlabelled namespaces (default: privileged)')
  .option('--encryption-provider-config <file>', 'EncryptionConfiguration: encryption at rest')
  .option(
    '--identity-lease-duration-seconds <n>',
    "seconds this apiserver's identity Lease lives unrenewed (default 30)",
  )
  .option('--identity-lease-renew-interval-seconds <n>', 'seconds between renewals of that Lease (default 10)');
for (const [flag, help] of AUDIT_FLAG_HELP) program.option(flag, help);
program.parse();

const config = configOrExit('apiserver', () => apiServerConfig(program.opts<ApiServerFlags>()));
await run(config, processSignal()).catch((err: unknown) => {
  process.stderr.write(`apiserver: failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
process.exit(0); // drained: open handles (timers, idle sockets) must not keep the process
