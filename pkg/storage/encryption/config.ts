// The EncryptionConfiguration file (`--encryption-provider-config`), in Kubernetes' format
// (apiserver.config.k8s.io/v1): parsed from YAML or JSON and validated with Kubernetes'
// rules and field paths, so an operator's mistake is named the way kube-apiserver names it.
// Nothing here trusts the file: every shape is checked before use, secrets never appear in
// messages (Kubernetes prints "REDACTED"), and a hostile file yields errors, not a crash.

import type { StatusCause } from '../../errors/index.js';
import { decodeYaml } from '../../api/decode/index.js';
import { errorMessage } from '../../errors/index.js';
import { parseGroupResource, type GroupResource } from './group-resource.js';

export const ENCRYPTION_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1';
export const ENCRYPTION_CONFIG_KIND = 'EncryptionConfiguration';

/** One key of a provider: `name` goes into the stored prefix, `secret` is base64. */
export interface EncryptionKey {
  name: string;
  secret: string;
}

export interface KeysConfiguration {
  keys: EncryptionKey[];
}

/** The providers coxswain implements; `kms` is recognised only to be refused. */
export type ProviderType = 'aescbc' | 'aesgcm' | 'secretbox' | 'identity';

/** One element of `providers`: exactly one provider type per element. */
export type ProviderConfiguration =
  | { aescbc: KeysConfiguration }
  | { aesgcm: KeysConfiguration }
  | { secretbox: KeysConfiguration }
  | { identity: Record<string, never> };

export interface ResourceConfiguration {
  /** `secrets`, `deployments.apps`, `*.apps`, `*.` (the core group), `*.*`. */
  resources: string[];
  /** In order: the first writes, all read. */
  providers: ProviderConfiguration[];
}

export interface EncryptionConfiguration {
  apiVersion: typeof ENCRYPTION_CONFIG_API_VERSION;
  kind: typeof ENCRYPTION_CONFIG_KIND;
  resources: ResourceConfiguration[];
}

/** A config that failed to parse or validate; `causes` carry one field error each. */
export class EncryptionConfigError extends Error {
  readonly causes: StatusCause[];

  constructor(causes: StatusCause[]) {
    const lines = causes.map((c) => (c.field === undefined ? (c.message ?? '') : `${c.field}: ${c.message ?? ''}`));
    super(`invalid EncryptionConfiguration: ${lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`}`);
    this.name = 'EncryptionConfigError';
    this.causes = causes;
  }
}

// Kubernetes' messages (validation_encryption.go), so operators can search for them.
const ONE_PROVIDER_PER_ELEMENT =
  'more than one provider specified in a single element, should split into different list elements';
const BASE64_REQUIRED = 'secrets must be base64 encoded';
const STAR_RESOURCE = "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources";
const OVERLAP =
  "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked";
const DUPLICATE_RESOURCE = 'the same resource cannot be specified multiple times';
const NON_REST_RESOURCE = 'resources which do not have REST API/s cannot be encrypted';
const CAPITALS = 'resource name should not contain capital letters';
const EVENTS_GROUP =
  "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file";
const EXTENSIONS_GROUP = "'extensions' group has been removed and cannot be used for encryption";
const ACROSS_GROUPS = 'encrypting the same resource across groups is not supported';
const NON_REST_RESOURCES = new Set(['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations']);

/** Key sizes in bytes, as Kubernetes accepts them (AES-128/192/256; NaCl's 32-byte key). */
export const KEY_SIZES: Readonly<Record<Exclude<ProviderType, 'identity'>, readonly number[]>> = {
  aescbc: [16, 24, 32],
  aesgcm: [16, 24, 32],
  secretbox: [32],
};

const KNOWN_PROVIDERS: ReadonlySet<string> = new Set(['aescbc', 'aesgcm', 'secretbox', 'identity', 'kms']);

const required = (field: string, message: string): StatusCause => ({
  reason: 'FieldValueRequired',
  field,
  message: `Required value: ${message}`,
});
const invalid = (field: string, value: string, message: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${message}`,
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own properties only: a config can never reach Object.prototype through a key. */
function field(obj: Record<string, unknown>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
}

/**
 * Decodes base64 strictly, as Go's StdEncoding does (padding required, no stray characters;
 * line breaks are skipped as Go skips them). Undefined when the text is not base64.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  // Non-canonical trailing bits (e.g. "QR==") decode silently in Node; Go refuses them.
  return bytes.toString('base64') === compact ? bytes : undefined;
}

function validateKeys(
  value: unknown,
  path: string,
  sizes: readonly number[],
): { keys: EncryptionKey[]; errors: StatusCause[] } {
  if (!Array.isArray(value) || value.length === 0) {
    return { keys: [], errors: [required(path, 'at least one keys is required')] };
  }
  const errors: StatusCause[] = [];
  const keys: EncryptionKey[] = [];
  const seen = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(entry)) {
      errors.push(invalid(at, typeof entry, 'a key must be an object with name and secret'));
      return;
    }
    const name = field(entry, 'name');
    const secret = field(entry, 'secret');
    if (typeof name !== 'string' || name === '') {
      errors.push(required(`${at}.name`, 'name is a mandatory field for a key'));
    } else if (seen.has(name)) {
      // The name is the stored prefix: two keys under one name would be indistinguishable.
      errors.push(invalid(`${at}.name`, name, 'duplicate key name, names must be unique within a provider'));
    } else {
      seen.add(name);
    }
    if (typeof secret !== 'string' || secret === '') {
      errors.push(required(`${at}.secret`, 'secret is a mandatory field for a key'));
      return;
    }
    const bytes = decodeBase64Strict(secret);
    if (bytes === undefined) {
      errors.push(invalid(`${at}.secret`, 'REDACTED', BASE64_REQUIRED));
    } else if (!sizes.includes(bytes.length)) {
      const expected = `[${sizes.join(' ')}]`;
      errors.push(
        invalid(
          `${at}.secret`,
          'REDACTED',
          `secret is not of the expected length, got ${bytes.length}, expected one of ${expected}`,
        ),
      );
    }
    if (typeof name === 'string') keys.push({ name, secret });
  });
  return { keys, errors };
}

function validateProvider(value: unknown, path: string): { provider?: ProviderConfiguration; errors: StatusCause[] } {
  if (!isRecord(value))
    return { errors: [invalid(path, typeof value, 'a provider must be an object such as {aescbc: {keys: [...]}}')] };
  const names = Object.keys(value);
  const unknown = names.filter((n) => !KNOWN_PROVIDERS.has(n));
  if (unknown.length > 0) {
    const expected = 'expected one of aescbc, aesgcm, secretbox, identity';
    return { errors: unknown.map((n) => invalid(`${path}.${n}`, n, `unknown provider, ${expected}`)) };
  }
  if (names.length === 0) {
    const message = 'provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity';
    return { errors: [invalid(path, '{}', message)] };
  }
  if (names.length > 1) return { errors: [invalid(path, names.join(','), ONE_PROVIDER_PER_ELEMENT)] };
  const type = names[0];
  const body = type === undefined ? undefined : field(value, type);
  if (type === 'kms') {
    const message =
      'the kms provider is not supported by coxswain (no KMS plugin API); use aescbc, aesgcm or secretbox';
    return {
      errors: [{ reason: 'FieldValueNotSupported', field: `${path}.kms`, message: `Unsupported value: ${message}` }],
    };
  }
  if (type === 'identity') {
    if (!isRecord(body) || Object.keys(body).length > 0) {
      return {
        errors: [
          invalid(`${path}.identity`, JSON.stringify(body ?? null), 'identity takes no settings: write identity: {}'),
        ],
      };
    }
    return { provider: { identity: {} }, errors: [] };
  }
  if (type !== 'aescbc' && type !== 'aesgcm' && type !== 'secretbox') return { errors: [] };
  if (!isRecord(body)) return { errors: [required(`${path}.${type}.keys`, 'at least one keys is required')] };
  const { keys, errors } = validateKeys(field(body, 'keys'), `${path}.${type}.keys`, KEY_SIZES[type]);
  const provider: ProviderConfiguration =
    type === 'aescbc' ? { aescbc: { keys } } : type === 'aesgcm' ? { aesgcm: { keys } } : { secretbox: { keys } };
  return { provider, errors };
}

function validateResourceName(resource: string, path: string): StatusCause | undefined {
  if (resource === '') return required(path, 'a resource name is required');
  if (resource.toLowerCase() !== resource) return invalid(path, resource, CAPITALS);
  if (resource === '*') return invalid(path, resource, STAR_RESOURCE);
  if (NON_REST_RESOURCES.has(resource)) return invalid(path, resource, NON_REST_RESOURCE);
  const { group, resource: plural } = parseGroupResource(resource);
  if (group === 'events.k8s.io') return invalid(path, resource, EVENTS_GROUP);
  if (group === 'extensions') return invalid(path, resource, EXTENSIONS_GROUP);
  if (group === '*' && plural !== '*') return invalid(path, resource, ACROSS_GROUPS);
  return undefined;
}

const sameGroupResource = (a: GroupResource, b: GroupResource): boolean =>
  a.group === b.group && a.resource === b.resource;

/** Kubernetes' overlap rule within one list: no duplicates, and no wildcard beside what it covers. */
function validateResourceOverlap(resources: string[], path: string): StatusCause[] {
  const parsed = resources.map(parseGroupResource);
  let duplicate = false;
  let overlap = false;
  parsed.forEach((a, i) =>
    parsed.forEach((b, j) => {
      if (i === j) return;
      if (sameGroupResource(a, b)) duplicate = true;
      else if (
        (a.group === '*' && a.resource === '*') ||
        (a.group === b.group && (a.resource === '*' || b.resource === '*'))
      )
        overlap = true;
    }),
  );
  const shown = `[${resources.join(' ')}]`;
  const errors: StatusCause[] = [];
  if (duplicate) errors.push(invalid(path, shown, DUPLICATE_RESOURCE));
  if (overlap) errors.push(invalid(path, shown, OVERLAP));
  return errors;
}

function validateResources(value: unknown, path: string): { resources: string[]; errors: StatusCause[] } {
  if (!Array.isArray(value) || value.length === 0)
    return { resources: [], errors: [required(path, `at least one ${path} is required`)] };
  const errors: StatusCause[] = [];
  const resources: string[] = [];
  value.forEach((entry: unknown, j) => {
    if (typeof entry !== 'string') {
      errors.push(invalid(`${path}[${j}]`, typeof entry, 'a resource must be a string such as secrets or *.apps'));
      return;
    }
    const error = validateResourceName(entry, `${path}[${j}]`);
    if (error !== undefined) errors.push(error);
    resources.push(entry);
  });
  errors.push(...validateResourceOverlap(resources, path));
  return { resources, errors };
}

function validateResourceConfiguration(
  value: unknown,
  path: string,
): { entry: ResourceConfiguration; errors: StatusCause[] } {
  if (!isRecord(value)) {
    return {
      entry: { resources: [], providers: [] },
      errors: [invalid(path, typeof value, 'each entry must be an object with resources and providers')],
    };
  }
  const { resources, errors } = validateResources(field(value, 'resources'), `${path}.resources`);
  const providersValue = field(value, 'providers');
  const providers: ProviderConfiguration[] = [];
  if (!Array.isArray(providersValue) || providersValue.length === 0) {
    errors.push(required(`${path}.providers`, `at least one ${path}.providers is required`));
  } else {
    providersValue.forEach((p: unknown, j) => {
      const result = validateProvider(p, `${path}.providers[${j}]`);
      errors.push(...result.errors);
      if (result.provider !== undefined) providers.push(result.provider);
    });
    errors.push(...duplicateKeyNamesAcrossProviders(providers, `${path}.providers`));
  }
  return { entry: { resources, providers }, errors };
}

/**
 * Two providers of one type in one entry (rotating between aescbc keys, say) share the
 * stored prefix `k8s:enc:aescbc:v1:`, so a key name used in both would be ambiguous.
 */
function duplicateKeyNamesAcrossProviders(providers: ProviderConfiguration[], path: string): StatusCause[] {
  const seen = new Map<string, number>();
  const errors: StatusCause[] = [];
  providers.forEach((provider, index) => {
    const { type, keys } = providerKeys(provider);
    for (const key of new Set(keys.map((k) => k.name))) {
      const earlier = seen.get(`${type}:${key}`);
      if (earlier !== undefined && earlier !== index) {
        errors.push(
          invalid(
            `${path}[${index}].${type}.keys`,
            key,
            `key name already used by ${path}[${earlier}]; names must be unique per provider type`,
          ),
        );
      }
      seen.set(`${type}:${key}`, earlier ?? index);
    }
  });
  return errors;
}

/** The type of a provider element and its keys (none for identity). */
export function providerKeys(provider: ProviderConfiguration): { type: ProviderType; keys: EncryptionKey[] } {
  if ('aescbc' in provider) return { type: 'aescbc', keys: provider.aescbc.keys };
  if ('aesgcm' in provider) return { type: 'aesgcm', keys: provider.aesgcm.keys };
  if ('secretbox' in provider) return { type: 'secretbox', keys: provider.secretbox.keys };
  return { type: 'identity', keys: [] };
}

/**
 * Checks an already-decoded config (plain data from YAML or JSON) and returns it typed,
 * with only the fields coxswain uses. Throws EncryptionConfigError listing every problem.
 */
export function validateEncryptionConfiguration(value: unknown): EncryptionConfiguration {
  if (!isRecord(value))
    throw new EncryptionConfigError([{ message: 'the file must hold one EncryptionConfiguration object' }]);
  const errors: StatusCause[] = [];
  const apiVersion = field(value, 'apiVersion');
  const kind = field(value, 'kind');
  if (apiVersion !== ENCRYPTION_CONFIG_API_VERSION) {
    errors.push(invalid('apiVersion', String(apiVersion ?? ''), `must be ${ENCRYPTION_CONFIG_API_VERSION}`));
  }
  if (kind !== ENCRYPTION_CONFIG_KIND)
    errors.push(invalid('kind', String(kind ?? ''), `must be ${ENCRYPTION_CONFIG_KIND}`));
  const resourcesValue = field(value, 'resources');
  const resources: ResourceConfiguration[] = [];
  if (!Array.isArray(resourcesValue) || resourcesValue.length === 0) {
    errors.push(required('resources', 'at least one resources is required'));
  } else {
    resourcesValue.forEach((entry: unknown, i) => {
      const result = validateResourceConfiguration(entry, `resources[${i}]`);
      errors.push(...result.errors);
      resources.push(result.entry);
    });
  }
  if (errors.length > 0) throw new EncryptionConfigError(errors);
  return { apiVersion: ENCRYPTION_CONFIG_API_VERSION, kind: ENCRYPTION_CONFIG_KIND, resources };
}

/** Parses the file's text (YAML or JSON: YAML 1.2 reads both) and validates it. */
export function parseEncryptionConfiguration(text: string): EncryptionConfiguration {
  if (text.trim() === '')
    throw new EncryptionConfigError([{ message: 'the encryption provider configuration is empty' }]);
  let decoded;
  try {
    decoded = decodeYaml(text);
  } catch (err) {
    throw new EncryptionConfigError([{ message: `error while parsing file: ${errorMessage(err)}` }]);
  }
  if (decoded.duplicateFields.length > 0) {
    const causes = decoded.duplicateFields.map((name) => ({
      reason: 'FieldValueDuplicate',
      message: `duplicate field ${JSON.stringify(name)}`,
    }));
    throw new EncryptionConfigError(causes);
  }
  return validateEncryptionConfiguration(decoded.value);
}
