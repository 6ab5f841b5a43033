// The apiserver's flags (strings from the command line) checked into its one ApiServerConfig.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { formatCidr, parseCidr } from '../api/cidr.js';
import { ConfigError } from '../component/index.js';
import { errorMessage } from '../errors/index.js';
import { resolveTokenConfig } from '../serviceaccount/index.js';
import { buildResourceTransformers, parseEncryptionConfiguration } from '../storage/encryption/index.js';
import { chooseAdvertiseAddress } from './advertise-address.js';
import { storeConfig, type EtcdFlags } from './store-backend.js';
import { isLevel, type Level } from './admission/index.js';
import { auditOptionsFromFlags, type AuditLogOptions } from './audit/index.js';
import { DEFAULT_CONFIG, type ApiServerConfig, type ServiceAccountConfig } from './config.js';

export interface ApiServerFlags extends EtcdFlags {
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
  identityLeaseDurationSeconds?: string;
  identityLeaseRenewIntervalSeconds?: string;
  serviceClusterIpRange: string;
  maxRequestsInflight: string;
  maxMutatingRequestsInflight: string;
  maxWatchesPerUser: string;
  maxWatches: string;
  watchMaxBufferBytes: string;
  serviceAccountSigningKeyFile?: string;
  serviceAccountKeyFile?: string;
  serviceAccountIssuer?: string[];
  apiAudiences?: string;
  serviceAccountMaxTokenExpiration?: string;
  podSecurityDefault?: string;
  encryptionProviderConfig?: string;
  auditPolicyFile?: string;
  auditLogPath?: string;
  auditLogMaxage?: string;
  auditLogMaxbackup?: string;
  auditLogMaxsize?: string;
}

/** kube-apiserver's audit log flags, for the command to declare (help kept to one line each). */
export const AUDIT_FLAG_HELP: readonly (readonly [string, string])[] = [
  ['--audit-policy-file <file>', 'audit.k8s.io/v1 Policy: what is logged at which level'],
  ['--audit-log-path <file>', 'audit log (JSON lines, mode 0600; "-" is stdout); audit is off without it'],
  ['--audit-log-maxage <days>', 'days to keep rotated audit logs (0: no limit)'],
  ['--audit-log-maxbackup <n>', 'rotated audit logs to keep (0: no limit)'],
  ['--audit-log-maxsize <MB>', 'megabytes before the audit log is rotated (0: 100)'],
];

/** The audit flags checked (the policy itself is read at start, so an unreadable one fails there). */
function auditConfig(o: ApiServerFlags): { audit?: AuditLogOptions } {
  const count = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value.trim())) throw new ConfigError(`--${flag} must be a non-negative integer, not "${value}"`);
    return Number(value);
  };
  try {
    const audit = auditOptionsFromFlags({
      'audit-policy-file': o.auditPolicyFile,
      'audit-log-path': o.auditLogPath,
      'audit-log-maxage': count('audit-log-maxage', o.auditLogMaxage),
      'audit-log-maxbackup': count('audit-log-maxbackup', o.auditLogMaxbackup),
      'audit-log-maxsize': count('audit-log-maxsize', o.auditLogMaxsize),
    });
    return audit === undefined ? {} : { audit };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}

/** The ServiceAccount token flags, checked as kube-apiserver checks them. */
function serviceAccountConfig(o: ApiServerFlags): ServiceAccountConfig | undefined {
  if (o.serviceAccountSigningKeyFile === undefined) {
    if (o.serviceAccountKeyFile !== undefined)
      throw new ConfigError('--service-account-key-file needs --service-account-signing-key-file');
    return undefined;
  }
  const max = o.serviceAccountMaxTokenExpiration === undefined ? 0 : Number(o.serviceAccountMaxTokenExpiration);
  const resolved = resolveTokenConfig({
    ...(o.serviceAccountIssuer === undefined ? {} : { issuers: o.serviceAccountIssuer }),
    ...(o.apiAudiences === undefined ? {} : { apiAudiences: o.apiAudiences.split(',').map((a) => a.trim()) }),
    maxTokenExpirationSeconds: max,
  });
  if (!resolved.ok) throw new ConfigError(resolved.errors.join('; '));
  return {
    signingKeyFile: o.serviceAccountSigningKeyFile,
    ...(o.serviceAccountKeyFile === undefined ? {} : { keyFile: o.serviceAccountKeyFile }),
    tokens: resolved.config,
  };
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
  if (o.advertiseAddress !== '' && isIP(o.advertiseAddress) === 0) {
    throw new ConfigError(`--advertise-address must be an IP address, not "${o.advertiseAddress}"`);
  }
  return {
    ...DEFAULT_CONFIG,
    ...storeConfig(o),
    tlsCertFile: o.tlsCertFile,
    tlsKeyFile: o.tlsPrivateKeyFile,
    clientCaFile: o.clientCaFile,
    securePort: int('securePort'),
    bindAddress: o.bindAddress,
    advertiseAddress: o.advertiseAddress || chooseAdvertiseAddress(o.bindAddress),
    serviceClusterIPRange: formatCidr(range),
    maxBodyBytes: int('maxRequestBytes'),
    historyRevisions: int('watchHistory'),
    bookmarkIntervalMs: int('bookmarkInterval') * 1000,
    compactionIntervalMs: Math.max(1, int('compactionInterval')) * 1000,
    ...identityLeaseConfig(o),
    maxRequestsInflight: int('maxRequestsInflight'),
    maxMutatingRequestsInflight: int('maxMutatingRequestsInflight'),
    maxWatchesPerUser: int('maxWatchesPerUser'),
    maxWatches: int('maxWatches'),
    watchMaxBufferedBytes: Math.max(1, int('watchMaxBufferBytes')),
    ...(o.kubeletClientCertificate ? { kubeletClientCertFile: o.kubeletClientCertificate } : {}),
    ...(o.kubeletClientKey ? { kubeletClientKeyFile: o.kubeletClientKey } : {}),
    ...withServiceAccount(serviceAccountConfig(o)),
    podSecurityDefault: podSecurityLevel(o.podSecurityDefault),
    ...encryptionConfig(o.encryptionProviderConfig),
    ...auditConfig(o),
  };
}

/** --identity-lease-duration-seconds and --identity-lease-renew-interval-seconds (renewal within the duration). */
function identityLeaseConfig(o: ApiServerFlags): Pick<ApiServerConfig, 'identityLease'> {
  const seconds = (flag: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const v = Number(value);
    if (!Number.isInteger(v) || v < 1 || v > 3600) throw new ConfigError(`${flag} must be an integer from 1 to 3600`);
    return v;
  };
  const durationSeconds = seconds(
    '--identity-lease-duration-seconds',
    o.identityLeaseDurationSeconds,
    DEFAULT_CONFIG.identityLease.durationSeconds,
  );
  const renewIntervalSeconds = seconds(
    '--identity-lease-renew-interval-seconds',
    o.identityLeaseRenewIntervalSeconds,
    DEFAULT_CONFIG.identityLease.renewIntervalSeconds,
  );
  if (renewIntervalSeconds >= durationSeconds)
    throw new ConfigError(
      '--identity-lease-renew-interval-seconds must be shorter than --identity-lease-duration-seconds',
    );
  return { identityLease: { durationSeconds, renewIntervalSeconds } };
}

/** Reads and checks the EncryptionConfiguration (transformers built once, to refuse masked rules now). */
export function encryptionConfig(file: string | undefined): Pick<ApiServerConfig, 'encryption'> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--encryption-provider-config: cannot read ${file}: ${errorMessage(err)}`);
  }
  try {
    const config = parseEncryptionConfiguration(text);
    buildResourceTransformers(config);
    return { encryption: { file, config } };
  } catch (err) {
    throw new ConfigError(`--encryption-provider-config ${file}: ${errorMessage(err).replace(/\s*\n\s*/g, ' ')}`);
  }
}

function withServiceAccount(sa: ServiceAccountConfig | undefined): { serviceAccount?: ServiceAccountConfig } {
  return sa === undefined ? {} : { serviceAccount: sa };
}

function podSecurityLevel(flag: string | undefined): Level {
  if (flag === undefined) return DEFAULT_CONFIG.podSecurityDefault;
  if (!isLevel(flag))
    throw new ConfigError(`--pod-security-default must be privileged, baseline or restricted, not "${flag}"`);
  return flag;
}
