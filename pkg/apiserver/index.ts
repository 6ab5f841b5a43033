// The apiserver module's face: the server and its configuration, the generic REST layer,
// and the per-kind strategies it is specialised by.

export { DEFAULT_CONFIG, type ApiServerConfig } from './config.js';
export { ApiServer } from './server.js';
export { RestStore } from './rest-store.js';
export type { FieldValidation } from './admit-body.js';
export type {
  ObjectRef,
  Selectors,
  UpdateOptions,
  WatchListener,
  WatchRequest,
  WriteOptions,
  WriteResult,
} from './rest-types.js';
export {
  createStrategies,
  defaultStrategy,
  ensureNamespace,
  NAMESPACE_FINALIZER,
  type Strategies,
  type Strategy,
  type StrategyDeps,
  type Subresource,
  type SubresourceCall,
} from './registry/index.js';
export { apiServerConfig, AUDIT_FLAG_HELP, type ApiServerFlags } from './flags.js';
export { run } from './run.js';
