// Which store the apiserver runs on: etcd when --etcd-servers is given (Kubernetes' flags:
// --etcd-prefix, --etcd-cafile, --etcd-certfile, --etcd-keyfile), else embedded SQLite in
// --data-dir. Flags are checked here into EtcdConfig; the files are read at start.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../component/index.js';
import { errorMessage } from '../errors/index.js';
import type { ResourceTransformers } from '../storage/encryption/index.js';
import { EtcdStore, SqliteStore, type EtcdTls, type Store } from '../storage/index.js';
import type { ApiServerConfig, EtcdConfig } from './config.js';

/** Every storage key starts with this; in etcd it is replaced by --etcd-prefix. */
export const STORAGE_ROOT = '/registry';
export const DEFAULT_ETCD_PREFIX = '/registry';

export interface EtcdFlags {
  dataDir?: string;
  etcdServers?: string;
  etcdPrefix?: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
}

/** The store part of the config: --data-dir, or etcd. Throws a ConfigError naming the flag. */
export function storeConfig(o: EtcdFlags): Pick<ApiServerConfig, 'dataDir' | 'etcd'> {
  if (o.etcdServers === undefined) {
    if (o.dataDir === undefined || o.dataDir === '')
      throw new ConfigError('--data-dir is required (the SQLite store) unless --etcd-servers is given');
    return { dataDir: o.dataDir };
  }
  const servers = o.etcdServers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('--etcd-servers must list at least one URL');
  for (const s of servers) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new ConfigError(`--etcd-servers: "${s}" is not a URL (e.g. https://127.0.0.1:2379)`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ConfigError(`--etcd-servers: "${s}" must be http:// or https://`);
    if (url.protocol === 'https:' && o.etcdCafile === undefined)
      throw new ConfigError(`--etcd-servers: "${s}" is https: --etcd-cafile is required`);
  }
  if ((o.etcdCertfile === undefined) !== (o.etcdKeyfile === undefined))
    throw new ConfigError('--etcd-certfile and --etcd-keyfile go together');
  const prefix = o.etcdPrefix ?? DEFAULT_ETCD_PREFIX;
  if (!prefix.startsWith('/') || prefix.endsWith('/') || /[\0\s]/.test(prefix))
    throw new ConfigError(`--etcd-prefix must start with / and not end with one, not "${prefix}"`);
  const files = {
    ...(o.etcdCafile === undefined ? {} : { caFile: readable('--etcd-cafile', o.etcdCafile) }),
    ...(o.etcdCertfile === undefined ? {} : { certFile: readable('--etcd-certfile', o.etcdCertfile) }),
    ...(o.etcdKeyfile === undefined ? {} : { keyFile: readable('--etcd-keyfile', o.etcdKeyfile) }),
  };
  return { dataDir: o.dataDir ?? '', etcd: { servers, prefix, ...files } };
}

function readable(flag: string, file: string): string {
  try {
    readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${flag}: cannot read ${file}: ${errorMessage(err)}`);
  }
  return file;
}

/** The PEM files of the --etcd-* flags (undefined: no TLS). */
export function etcdTls(etcd: EtcdConfig): EtcdTls | undefined {
  if (etcd.caFile === undefined) return undefined;
  return {
    ca: readFileSync(etcd.caFile),
    ...(etcd.certFile === undefined ? {} : { cert: readFileSync(etcd.certFile) }),
    ...(etcd.keyFile === undefined ? {} : { key: readFileSync(etcd.keyFile) }),
  };
}

/** Opens the configured store (etcd is contacted lazily; the watch cache's first list checks it). */
export function openStore(config: ApiServerConfig, transformers: ResourceTransformers | undefined): Store {
  const history = { historyRevisions: config.historyRevisions, compactIntervalMs: config.compactionIntervalMs };
  const encryption = transformers === undefined ? {} : { transformers };
  const etcd = config.etcd;
  if (etcd === undefined) return SqliteStore.open(config.dataDir, { ...history, ...encryption });
  const tls = etcdTls(etcd);
  process.stderr.write(`apiserver: store: etcd at ${etcd.servers.join(', ')} under ${etcd.prefix}\n`);
  return new EtcdStore({
    endpoints: etcd.servers,
    ...(tls === undefined ? {} : { tls }),
    prefix: etcd.prefix,
    root: STORAGE_ROOT,
    ...history,
    ...encryption,
  });
}
