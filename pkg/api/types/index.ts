// Typed views of every served kind. Objects arrive as KubeObject; readers cast to these
// after the apiserver has type-checked and defaulted them.

export type * from './core.js';
export type * from './apps.js';
export type * from './batch.js';
export type * from './coordination.js';
export type * from './rbac.js';
export type * from './certificates.js';
export type * from './policy.js';
export type * from './autoscaling.js';
