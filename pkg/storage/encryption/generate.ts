// Fresh and rotated EncryptionConfiguration files, for `coxctl`: a random 32-byte key for
// aescbc, aesgcm or secretbox, with identity listed last so values written before
// encryption was turned on still read (and are reported stale until rewritten).

import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import {
  ENCRYPTION_CONFIG_API_VERSION,
  ENCRYPTION_CONFIG_KIND,
  EncryptionConfigError,
  KEY_SIZES,
  providerKeys,
  validateEncryptionConfiguration,
  type EncryptionConfiguration,
  type EncryptionKey,
  type ProviderConfiguration,
} from './config.js';

export type EncryptingProvider = 'aescbc' | 'aesgcm' | 'secretbox';

export interface NewKeyOptions {
  /** secretbox unless said otherwise: authenticated, and Kubernetes' recommendation over aescbc. */
  provider?: EncryptingProvider;
  /** The key's name, part of every stored value's prefix. */
  keyName?: string;
  /** The key itself; 32 random bytes unless given (tests pass a fixed one). */
  key?: Uint8Array;
}

export interface GenerateOptions extends NewKeyOptions {
  /** The resources to encrypt; `secrets` unless given. */
  resources?: readonly string[];
}

const HEADER = [
  '# Encryption at rest (kube-apiserver --encryption-provider-config format).',
  '# The first provider encrypts every write; all providers read. identity, last, keeps values',
  '# written before encryption readable until they are rewritten. Keep this file secret (0600).',
];

function providerWith(type: EncryptingProvider, keys: EncryptionKey[]): ProviderConfiguration {
  if (type === 'aescbc') return { aescbc: { keys } };
  if (type === 'aesgcm') return { aesgcm: { keys } };
  return { secretbox: { keys } };
}

function newKey(options: NewKeyOptions, defaultName: string): { type: EncryptingProvider; key: EncryptionKey } {
  const type = options.provider ?? 'secretbox';
  const bytes = options.key ?? randomBytes(32);
  if (!KEY_SIZES[type].includes(bytes.length)) {
    const message = `a ${type} key is ${KEY_SIZES[type].join(', ')} bytes, got ${bytes.length}`;
    throw new EncryptionConfigError([{ reason: 'FieldValueInvalid', field: 'key', message }]);
  }
  return { type, key: { name: options.keyName ?? defaultName, secret: Buffer.from(bytes).toString('base64') } };
}

/** The YAML text of a config, validated first so nothing invalid is ever written. */
export function formatEncryptionConfiguration(config: EncryptionConfiguration): string {
  const checked = validateEncryptionConfiguration(config);
  return `${HEADER.join('\n')}\n${stringify(checked, { lineWidth: 0 })}`;
}

/** A new config: one encrypting provider with one key, then identity. */
export function generateEncryptionConfig(options: GenerateOptions = {}): string {
  const { type, key } = newKey(options, 'key1');
  const config: EncryptionConfiguration = {
    apiVersion: ENCRYPTION_CONFIG_API_VERSION,
    kind: ENCRYPTION_CONFIG_KIND,
    resources: [
      { resources: [...(options.resources ?? ['secrets'])], providers: [providerWith(type, [key]), { identity: {} }] },
    ],
  };
  return formatEncryptionConfiguration(config);
}

/**
 * The config with a new key writing for every entry, the old keys kept behind it for reads:
 * into the first provider when it is of the same type, else as a new first provider. After
 * the apiserver restarts with it, rewriting every value (the stale ones) completes the rotation.
 */
export function rotateEncryptionConfig(
  config: EncryptionConfiguration,
  options: NewKeyOptions & { keyName: string },
): string {
  const { type, key } = newKey(options, options.keyName);
  const resources = config.resources.map((entry) => {
    const [first, ...rest] = entry.providers;
    if (first !== undefined) {
      const current = providerKeys(first);
      if (current.type === type) return { ...entry, providers: [providerWith(type, [key, ...current.keys]), ...rest] };
    }
    return { ...entry, providers: [providerWith(type, [key]), ...entry.providers] };
  });
  return formatEncryptionConfiguration({ ...config, resources });
}
