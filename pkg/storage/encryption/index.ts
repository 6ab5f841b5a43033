// Encryption at rest, as Kubernetes does it (`--encryption-provider-config`): the config
// file, one value transformer per resource (aescbc, aesgcm, secretbox, identity; the first
// provider writes, all read, stale values reported for rewriting), and config generation
// for coxctl. Pure: the store calls toStorage on a value's JSON before writing it and
// fromStorage after reading it, with the value's store key; nothing here does I/O.

export {
  ENCRYPTION_CONFIG_API_VERSION,
  ENCRYPTION_CONFIG_KIND,
  EncryptionConfigError,
  KEY_SIZES,
  decodeBase64Strict,
  parseEncryptionConfiguration,
  providerKeys,
  validateEncryptionConfiguration,
  type EncryptionConfiguration,
  type EncryptionKey,
  type KeysConfiguration,
  type ProviderConfiguration,
  type ProviderType,
  type ResourceConfiguration,
} from './config.js';
export {
  formatGroupResource,
  groupResourceOfStorageKey,
  parseGroupResource,
  type GroupResource,
} from './group-resource.js';
export {
  AESCBC_PREFIX,
  AESGCM_PREFIX,
  ENCRYPTED_PREFIX,
  EncryptionError,
  SECRETBOX_PREFIX,
  describeStoredValue,
  identityTransformer,
  type RandomSource,
  type ReadResult,
  type ValueTransformer,
} from './providers.js';
export {
  buildResourceTransformers,
  transformerForResource,
  type ResourceTransformers,
  type TransformerOptions,
} from './transformers.js';
export {
  formatEncryptionConfiguration,
  generateEncryptionConfig,
  rotateEncryptionConfig,
  type EncryptingProvider,
  type GenerateOptions,
  type NewKeyOptions,
} from './generate.js';
