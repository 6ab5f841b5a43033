// Kubernetes' audit logging (audit.k8s.io/v1): the Policy file (policy.ts), which level a
// request gets (checker.ts), the per-request Event stages (event.ts), and the JSON-lines log
// backend (log-backend.ts) with lumberjack-style rotation (rotating-file.ts). openAudit()
// (options.ts) builds it all from the --audit-* flags; the apiserver then calls
// recorder.begin() per request and the returned RequestAudit as the request proceeds.

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
  DEFAULT_MAX_QUEUE_BYTES,
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
