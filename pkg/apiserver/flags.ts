// The apiserver's flags (strings from the command line) checked into its one ApiServerConfig.

import { formatCidr, parseCidr } from '../api/cidr.js';
import { ConfigError } from '../component/index.js';
import { DEFAULT_CONFIG, type ApiServerConfig } from './config.js';

export interface ApiServerFlags {
  dataDir: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCaFile: string;
  securePort: string;
  bindAddress: string;
  advertiseAddress: string;
  maxRequestBytes: string;
  watchHistory: string;
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  compactionInterval: string;
  bookmarkInterval: string;
  serviceClusterIpRange: string;
  maxRequestsInflight: string;
  maxMutatingRequestsInflight: string;
  maxWatchesPerUser: string;
  maxWatches: string;
  watchMaxBufferBytes: string;
}

/** Throws a ConfigError naming the first flag it cannot accept. */
export function apiServerConfig(o: ApiServerFlags): ApiServerConfig {
  const int = (name: keyof ApiServerFlags): number => {
    const v = Number(o[name]);
    if (!Number.isInteger(v) || v < 0) {
      throw new ConfigError(`--${name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be a non-negative integer`);
    }
    return v;
  };
  const range = parseCidr(o.serviceClusterIpRange);
  if (range === undefined || range.bits < 8 || range.bits > 28) {
    throw new ConfigError(
      `--service-cluster-ip-range must be an IPv4 CIDR from /8 to /28, not "${o.serviceClusterIpRange}"`,
    );
  }
  return {
    ...DEFAULT_CONFIG,
    dataDir: o.dataDir,
    tlsCertFile: o.tlsCertFile,
    tlsKeyFile: o.tlsPrivateKeyFile,
    clientCaFile: o.clientCaFile,
    securePort: int('securePort'),
    bindAddress: o.bindAddress,
    advertiseAddress: o.advertiseAddress,
    serviceClusterIPRange: formatCidr(range),
    maxBodyBytes: int('maxRequestBytes'),
    historyRevisions: int('watchHistory'),
    bookmarkIntervalMs: int('bookmarkInterval') * 1000,
    compactionIntervalMs: Math.max(1, int('compactionInterval')) * 1000,
    maxRequestsInflight: int('maxRequestsInflight'),
    maxMutatingRequestsInflight: int('maxMutatingRequestsInflight'),
    maxWatchesPerUser: int('maxWatchesPerUser'),
    maxWatches: int('maxWatches'),
    watchMaxBufferedBytes: Math.max(1, int('watchMaxBufferBytes')),
    ...(o.kubeletClientCertificate ? { kubeletClientCertFile: o.kubeletClientCertificate } : {}),
    ...(o.kubeletClientKey ? { kubeletClientKeyFile: o.kubeletClientKey } : {}),
  };
}
