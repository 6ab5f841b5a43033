// pkg/apiserver/admission's face: Pod Security Admission (Kubernetes' PodSecurity plugin,
// policy version "latest") as pure functions; LimitRanger and ResourceQuota (pure, and their
// store glue NamespacePolicyAdmission, the REST layer's create hook). The apiserver calls
// admitPod, admitWorkload and admitNamespace on writes; the checks and label parsing are
// exported for tools and tests.

export type { Level, Violation, Check } from './check-types.js';
export { SAFE_SYSCTLS } from './checks-baseline.js';
export { type Evaluation, checkIds, evaluatePod, evaluateView, forbiddenDetail, forbiddenReason } from './evaluate.js';
export { type PodView, podView } from './pod-view.js';
export {
  type LevelVersion,
  type Mode,
  type Policy,
  type PolicyValueError,
  type LabelPolicy,
  LABEL_PREFIX,
  ENFORCE_LABEL,
  ENFORCE_VERSION_LABEL,
  AUDIT_LABEL,
  AUDIT_VERSION_LABEL,
  WARN_LABEL,
  WARN_VERSION_LABEL,
  LEVELS,
  compareLevels,
  isLevel,
  levelVersionString,
  parseVersion,
  policyFromLabels,
  uniformPolicy,
} from './policy.js';
export {
  type PodSecurityConfig,
  type PodSecurityExemptions,
  type ParsedConfig,
  CONFIG_API_VERSION,
  CONFIG_KIND,
  parseDefaultLevel,
  parsePodSecurityConfiguration,
  podSecurityConfig,
} from './config.js';
export {
  type AdmissionDecision,
  type AdmissionRequest,
  type Operation,
  type PodAdmission,
  type PolicyViolation,
  type ResourceRef,
  type WorkloadAdmission,
  ANNOTATION_AUDIT_VIOLATIONS,
  ANNOTATION_ENFORCE_POLICY,
  ANNOTATION_ERROR,
  ANNOTATION_EXEMPT,
  admitPod,
  admitWorkload,
  hasPodTemplate,
  isSignificantPodUpdate,
  podTemplateOf,
} from './admission.js';
export { type NamespaceAdmission, MAX_PODS_TO_CHECK, admitNamespace, existingPodWarnings } from './namespace.js';
export { admitServiceAccount, SERVICE_ACCOUNT_MOUNT_PATH, type ServiceAccountLookup } from './service-account.js';
export {
  LIMIT_RANGER_ANNOTATION,
  defaultFromLimitRanges,
  enforceLimitRanges,
  applyLimitRangeDefaults,
} from './limit-ranger.js';
export { chargeQuota, type QuotaRequest } from './resource-quota.js';
export { NamespacePolicyAdmission, type CreateAdmission } from './namespace-policy.js';
