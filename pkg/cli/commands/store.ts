// coxctl store migrate: moves a stopped cluster's state from the embedded SQLite store to
// etcd (pkg/storage/migrate.ts). The etcd and encryption flags mean what they mean to the
// apiserver and are checked by its own code (store-backend.ts, flags.ts), so the target is
// exactly the store an apiserver started with the same flags would use.

import { ConfigError } from '../../component/index.js';
import { encryptionConfig } from '../../apiserver/flags.js';
import { etcdTls, STORAGE_ROOT, storeConfig } from '../../apiserver/store-backend.js';
import { buildResourceTransformers } from '../../storage/encryption/index.js';
import { formatReport, migrate } from '../../storage/migrate.js';
import { EtcdTarget } from '../../storage/migrate/etcd-target.js';
import { SqliteSource } from '../../storage/migrate/sqlite-source.js';
import { CliError, type CliContext } from '../context.js';

export interface StoreMigrateFlags {
  from: string;
  to: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdPrefix?: string;
  encryptionProviderConfig?: string;
}

/** The part after `<scheme>:` of a --from/--to value; one line naming the flag otherwise. */
export function schemeValue(flag: string, value: string, scheme: 'sqlite' | 'etcd'): string {
  const colon = value.indexOf(':');
  const given = colon < 0 ? '' : value.slice(0, colon);
  const example = scheme === 'sqlite' ? 'sqlite:/var/lib/coxswain' : 'etcd:https://127.0.0.1:2379';
  if (given !== scheme) throw new CliError(`${flag} must be ${scheme}:… (e.g. ${example}), not "${value}"`);
  const rest = value.slice(colon + 1);
  if (rest === '') throw new CliError(`${flag} ${value}: nothing after "${scheme}:" (e.g. ${example})`);
  return rest;
}

/** The apiserver's own checks, with its flag names turned into this command's. */
function asCliError(err: unknown): unknown {
  return err instanceof ConfigError ? new CliError(err.message.replaceAll('--etcd-servers', '--to')) : err;
}

export async function runStoreMigrate(ctx: CliContext, flags: StoreMigrateFlags): Promise<void> {
  let etcd;
  let dataDir;
  let transformers;
  try {
    dataDir = storeConfig({ dataDir: schemeValue('--from', flags.from, 'sqlite') }).dataDir;
    etcd = storeConfig({
      etcdServers: schemeValue('--to', flags.to, 'etcd'),
      ...(flags.etcdPrefix === undefined ? {} : { etcdPrefix: flags.etcdPrefix }),
      ...(flags.etcdCafile === undefined ? {} : { etcdCafile: flags.etcdCafile }),
      ...(flags.etcdCertfile === undefined ? {} : { etcdCertfile: flags.etcdCertfile }),
      ...(flags.etcdKeyfile === undefined ? {} : { etcdKeyfile: flags.etcdKeyfile }),
    }).etcd;
    const encryption = encryptionConfig(flags.encryptionProviderConfig).encryption;
    transformers = encryption === undefined ? undefined : buildResourceTransformers(encryption.config);
  } catch (err) {
    throw asCliError(err);
  }
  if (etcd === undefined) throw new CliError('--to: no etcd servers given');
  // grpc-js names an IP as the TLS server name, which Node warns about on every connection:
  // the command's output stays its one line.
  process.noDeprecation = true;
  const tls = etcdTls(etcd);
  const source = SqliteSource.open(dataDir);
  const target = new EtcdTarget({
    endpoints: etcd.servers,
    ...(tls === undefined ? {} : { tls }),
    prefix: etcd.prefix,
    root: STORAGE_ROOT,
  });
  try {
    const report = await migrate(source, target, transformers === undefined ? {} : { transformers });
    ctx.out(formatReport(report));
  } finally {
    target.close();
    source.close();
  }
}
