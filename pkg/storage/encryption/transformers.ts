// From a validated EncryptionConfiguration to one transformer per resource, as kube-apiserver
// builds them: each resources entry yields its providers in order (per provider, its keys
// in order, the key name in the prefix); a resource named in several entries reads with all
// of them and writes with the first; a rule masked by an earlier wildcard (`*.apps` then
// `deployments.apps`, or anything after `*.*`) is refused; lookup tries the exact resource,
// then `*.<group>`, then `*.*`, and otherwise stores plaintext (identity).

import { randomBytes } from 'node:crypto';
import {
  EncryptionConfigError,
  decodeBase64Strict,
  providerKeys,
  type EncryptionConfiguration,
  type ProviderConfiguration,
} from './config.js';
import { formatGroupResource, parseGroupResource, type GroupResource } from './group-resource.js';
import {
  AESCBC_PREFIX,
  AESGCM_PREFIX,
  SECRETBOX_PREFIX,
  aesCbcTransformer,
  aesGcmTransformer,
  describeStoredValue,
  identityTransformer,
  leadingKeyName,
  prefixTransformers,
  secretboxTransformer,
  type PrefixedTransformer,
  type RandomSource,
  type ValueTransformer,
} from './providers.js';

export interface TransformerOptions {
  /** Source of IVs and nonces; crypto.randomBytes unless a test fixes it. */
  random?: RandomSource;
}

/** The transformers of a config, by resource. */
export interface ResourceTransformers {
  /** The transformer for a resource (group '' is core): exact, then `*.<group>`, then `*.*`, else identity. */
  forResource(groupResource: GroupResource): ValueTransformer;
  /** The resource rules the config names, as written (`secrets`, `*.apps`), for logs. */
  readonly rules: readonly string[];
}

const PROVIDER_PREFIX = { aescbc: AESCBC_PREFIX, aesgcm: AESGCM_PREFIX, secretbox: SECRETBOX_PREFIX } as const;

function describeMiss(stored: Uint8Array, configured: string[], what: string): string {
  const keyName = leadingKeyName(stored);
  const storedWith =
    keyName === undefined ? '' : ` (the value names key "${keyName}"; configured: ${configured.join(', ')})`;
  return `no matching key was found for the provided ${what} transformer${storedWith}`;
}

/** One provider element: its keys behind its provider prefix, Kubernetes' two-level prefixes. */
function providerTransformer(provider: ProviderConfiguration, random: RandomSource): PrefixedTransformer {
  const { type, keys } = providerKeys(provider);
  if (type === 'identity') return { prefix: '', transformer: identityTransformer };
  const providerPrefix = PROVIDER_PREFIX[type];
  const build = type === 'aescbc' ? aesCbcTransformer : type === 'aesgcm' ? aesGcmTransformer : secretboxTransformer;
  const perKey = keys.map(({ name, secret }): PrefixedTransformer => {
    const key = decodeBase64Strict(secret);
    // validateEncryptionConfiguration refused these already; a hand-built config may not have been.
    if (key === undefined)
      throw new EncryptionConfigError([
        { field: `${type}.keys`, message: `key ${name}: secrets must be base64 encoded` },
      ]);
    return { prefix: `${name}:`, transformer: build({ key, label: `${providerPrefix}${name}`, random }) };
  });
  const names = keys.map((k) => k.name);
  const what = type === 'secretbox' ? 'Secretbox' : 'AES';
  return {
    prefix: providerPrefix,
    transformer: prefixTransformers(perKey, (stored) => describeMiss(stored, names, what)),
  };
}

function noMatchingPrefix(stored: Uint8Array): string {
  const { provider, keyName } = describeStoredValue(stored);
  if (provider === 'identity')
    return 'no matching prefix found: the value is not encrypted and identity is not among the providers';
  const written = keyName === undefined ? provider : `${provider} key "${keyName}"`;
  return `no matching prefix found: the value was written by ${written}, which is not configured for this resource`;
}

/**
 * The lookup over a resource map: exact resource, `*.<group>`, `*.*`; identity otherwise
 * (which refuses to hand back encrypted bytes as if they were plain).
 */
export function transformerForResource(
  transformers: ReadonlyMap<string, ValueTransformer>,
  groupResource: GroupResource,
): ValueTransformer {
  const candidates = [groupResource, { group: groupResource.group, resource: '*' }, { group: '*', resource: '*' }];
  for (const candidate of candidates) {
    const found = transformers.get(formatGroupResource(candidate));
    if (found !== undefined) return found;
  }
  return identityTransformer;
}

/** Builds every resource's transformer; throws EncryptionConfigError for masked rules. */
export function buildResourceTransformers(
  config: EncryptionConfiguration,
  options: TransformerOptions = {},
): ResourceTransformers {
  const random = options.random ?? randomBytes;
  const providersByResource = new Map<string, PrefixedTransformer[]>();
  config.resources.forEach((entry, i) => {
    const providers = entry.providers.map((p) => providerTransformer(p, random));
    entry.resources.forEach((text, j) => {
      const gr = parseGroupResource(text);
      for (const wildcard of [
        { group: gr.group, resource: '*' },
        { group: '*', resource: '*' },
      ]) {
        const rule = formatGroupResource(wildcard);
        if (providersByResource.has(rule)) {
          const message = `resource ${JSON.stringify(formatGroupResource(gr))} is masked by earlier rule ${JSON.stringify(rule)}`;
          throw new EncryptionConfigError([
            { reason: 'FieldValueInvalid', field: `resources[${i}].resources[${j}]`, message },
          ]);
        }
      }
      const key = formatGroupResource(gr);
      // Named again in a later entry: Kubernetes appends that entry's providers (read-only).
      providersByResource.set(key, [...(providersByResource.get(key) ?? []), ...providers]);
    });
  });
  const transformers = new Map<string, ValueTransformer>();
  for (const [resource, list] of providersByResource)
    transformers.set(resource, prefixTransformers(list, noMatchingPrefix));
  return {
    forResource: (groupResource) => transformerForResource(transformers, groupResource),
    rules: [...transformers.keys()],
  };
}
