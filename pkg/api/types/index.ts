// Typed views of every served kind. The registry ties each resource to its type
// (`RESOURCES.pods: Resource<Pod>`), so clients and informers hand these out without casts;
// the apiserver has type-checked and defaulted the objects before anyone reads them.

export type * from './core.js';
export type * from './apps.js';
export type * from './batch.js';
export type * from './coordination.js';
export type * from './rbac.js';
export type * from './certificates.js';
export type * from './policy.js';
export type * from './autoscaling.js';
export type * from './discovery.js';
export type * from './storage.js';
export type * from './networking.js';
export type * from './apiextensions.js';
export type * from './scheduling.js';
export type * from './quota.js';
export type * from './metrics.js';
