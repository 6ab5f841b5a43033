// Kubernetes' audit logging (audit.k8s.io/v1): the Policy file, the per-request Event stages,
// and the JSON-lines log backend with lumberjack-style rotation. Not yet wired into the
// apiserver: see the README-like notes at the top of each file and openAudit().

export * from './types.js';
export { AuditPolicyError, parsePolicy, validatePolicy, type ParsedPolicy } from './policy.js';
export {
  policyEvaluator,
  ruleMatches,
  type AuditAttributes,
  type PolicyEvaluator,
  type RequestAuditConfig,
} from './checker.js';
export {
  AuditRecorder,
  DECISION_ANNOTATION,
  DEFAULT_MAX_OBJECT_BYTES,
  levelIncludes,
  microTime,
  REASON_ANNOTATION,
  RequestAudit,
  systemMicrosClock,
  TRUNCATED_ANNOTATION,
  type AuditRecorderOptions,
  type AuditRequestInput,
  type AuditSink,
  type MicrosClock,
} from './event.js';
export {
  AuditLogBackend,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_EVENT_BYTES,
  encodeEvent,
  StreamOutput,
  type AuditLogBackendOptions,
  type AuditLogStats,
  type AuditOutput,
} from './log-backend.js';
export { backupStamp, DEFAULT_MAX_SIZE_BYTES, RotatingFile, type RotatingFileOptions } from './rotating-file.js';
export {
  auditOptionsFromFlags,
  loadPolicyFile,
  openAudit,
  type AuditFlags,
  type AuditLogOptions,
  type OpenAuditDeps,
  type OpenedAudit,
} from './options.js';
