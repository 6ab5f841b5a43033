// pkg/api's face: object types and metadata, the resource table, selectors, schemas,
// defaults and validation, the wire decoders and patches, and the small value parsers
// (quantities, durations, CIDRs, cron) the API's fields are written in. Everything here is
// about API objects; bootstrap tokens, the streaming protocol and Table printers live in
// pkg/bootstrap, pkg/streaming and pkg/printers.

export * from './meta.js';
export * from './registry.js';
export * from './selectors.js';
export * from './node-matching.js';
export * from './schema.js';
export * from './defaults.js';
export * from './validation.js';
export * from './quantity.js';
export * from './milli-quantity.js';
export * from './duration.js';
export * from './cidr.js';
export * from './cron.js';
export * from './query-params.js';
export * from './pod-log-options.js';
export * from './disruption.js';
export * from './decode/index.js';
export * from './patch/index.js';
export type * from './types/index.js';
// Three names exist twice until the typed-resources step folds the helpers onto the object
// types; the face gives the ones its functions take.
export type { LabelSelector, LabelSelectorRequirement } from './selectors.js';
export type { Taint } from './node-matching.js';
export * from './load-balancer.js';
export * from './ingress-class.js';
