// The audit.k8s.io/v1 shapes: the Policy an administrator writes and the Event the apiserver
// logs for each request stage. Field names and JSON layout follow Kubernetes exactly, so
// tools that read kube-apiserver audit logs (jq filters, SIEM parsers) read ours unchanged.

import type { StatusDetails } from '../../errors/index.js';

export const AUDIT_API_VERSION = 'audit.k8s.io/v1';

/** How much of a request is recorded, from nothing to both bodies. */
export type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export const LEVELS: readonly Level[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

/** When in a request's life an event is emitted. */
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';
export const STAGES: readonly Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

/** Resources of one API group a rule selects; empty lists select everything in the group. */
export interface GroupResources {
  /** The API group; '' is the core group. */
  group: string;
  /** `pods`, `pods/log`, `pods/*`, `*\/status` or `*`. */
  resources: string[];
  resourceNames: string[];
}

/** One rule; every non-empty selector must match, the first matching rule of a policy wins. */
export interface PolicyRule {
  level: Level;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  /** '' selects cluster-scoped requests. */
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: Stage[];
  /** Undefined: the policy's omitManagedFields applies. */
  omitManagedFields: boolean | undefined;
}

export interface Policy {
  apiVersion: typeof AUDIT_API_VERSION;
  kind: 'Policy';
  rules: PolicyRule[];
  omitStages: Stage[];
  omitManagedFields: boolean;
}

/** authentication.k8s.io/v1 UserInfo, as the Event records the caller. */
export interface AuditUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** What a resource request was about (absent for non-resource URLs such as /healthz). */
export interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  /** Omitted for the core group. */
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** The bounded part of a metav1.Status kept in the event; `metadata` is always `{}` as in Kubernetes. */
export interface ResponseStatus {
  metadata: Record<string, never>;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: typeof AUDIT_API_VERSION;
  level: Exclude<Level, 'None'>;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  /** RFC 3339 with microseconds, UTC (metav1.MicroTime). */
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}
