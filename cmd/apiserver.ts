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
  .requiredOption('--data-dir <dir>', 'folder of the embedded SQLite store')
  .requiredOption('--tls-cert-file <file>', 'serving certificate (PEM)')
  .requiredOption('--tls-private-key-file <file>', 'serving key (PEM)')
  .requiredOption('--client-ca-file <file>', 'CA that signs client certificates')
  .addOption(new Option('--secure-port <port>', 'HTTPS port').default(d(DEFAULT_CONFIG.securePort)))
  .addOption(new Option('--bind-address <addr>', 'address to listen on').default(DEFAULT_CONFIG.bindAddress))
  .option('--advertise-address <ip>', 'where pods and nodes reach this apiserver (default: default-route address)', '')
  .addOption(new Option('--max-request-bytes <n>', 'request body limit').default(d(DEFAULT_CONFIG.maxBodyBytes)))
  .addOption(
    new Option('--watch-history <revisions>', 'revisions kept for watch resumption').default(
      d(DEFAULT_CONFIG.historyRevisions),
    ),
  )
  .option('--kubelet-client-certificate <file>', 'client certificate for node agents (logs, exec)')
  .option('--kubelet-client-key <file>', 'key of that certificate')
  .addOption(new Option('--compaction-interval <seconds>', 'seconds between history compactions').default('60'))
  .addOption(new Option('--bookmark-interval <seconds>', 'seconds between watch bookmarks').default('60'))
  .addOption(
    new Option('--service-cluster-ip-range <cidr>', "CIDR the Services' ClusterIPs come from").default(
      DEFAULT_CONFIG.serviceClusterIPRange,
    ),
  )
  .addOption(
    new Option('--max-requests-inflight <n>', 'concurrent non-mutating requests before 429 (0: no limit)').default(
      d(DEFAULT_CONFIG.maxRequestsInflight),
    ),
  )
  .addOption(
    new Option('--max-mutating-requests-inflight <n>', 'concurrent mutating requests before 429 (0: no limit)').default(
      d(DEFAULT_CONFIG.maxMutatingRequestsInflight),
    ),
  )
  .addOption(
    new Option('--max-watches-per-user <n>', 'concurrent watches of one user before 429 (0: no limit)').default(
      d(DEFAULT_CONFIG.maxWatchesPerUser),
    ),
  )
  .addOption(
    new Option('--max-watches <n>', 'concurrent watches in total before 429 (0: no limit)').default(
      d(DEFAULT_CONFIG.maxWatches),
    ),
  )
  .addOption(
    new Option('--watch-max-buffer-bytes <n>', 'unread bytes after which a watcher is cut off').default(
      d(DEFAULT_CONFIG.watchMaxBufferedBytes),
    ),
  );
program
  .option('--service-account-signing-key-file <file>', 'key that signs ServiceAccount tokens (PEM)')
  .option('--service-account-key-file <file>', 'public keys that verify ServiceAccount tokens (PEM)')
  .option('--service-account-issuer <url>', 'token issuer (repeatable: the first signs, all verify)', repeat)
  .option('--api-audiences <list>', 'comma-separated audiences the API accepts (default: the first issuer)')
  .option('--service-account-max-token-expiration <seconds>', 'longest token lifetime (0: no cap)')
  .option('--pod-security-default <level>', 'Pod Security level of unlabelled namespaces (default: privileged)')
  .option('--encryption-provider-config <file>', 'EncryptionConfiguration: encryption at rest');
for (const [flag, help] of AUDIT_FLAG_HELP) program.option(flag, help);
program.parse();

const config = configOrExit('apiserver', () => apiServerConfig(program.opts<ApiServerFlags>()));
await run(config, processSignal()).catch((err: unknown) => {
  process.stderr.write(`apiserver: failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
process.exit(0); // drained: open handles (timers, idle sockets) must not keep the process
