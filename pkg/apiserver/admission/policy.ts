// A namespace's Pod Security policy: a level and version for each of enforce, audit and
// warn, read from `pod-security.kubernetes.io/<mode>[-version]` labels over the cluster's
// defaults. Invalid values are handled as Kubernetes does: the namespace write is refused,
// and for pods an unparseable enforce level means `restricted` (fail closed) while an
// unparseable audit or warn level means `privileged` (fail open).

import type { Level } from './check-types.js';

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const ENFORCE_LABEL = `${LABEL_PREFIX}enforce`;
export const ENFORCE_VERSION_LABEL = `${LABEL_PREFIX}enforce-version`;
export const AUDIT_LABEL = `${LABEL_PREFIX}audit`;
export const AUDIT_VERSION_LABEL = `${LABEL_PREFIX}audit-version`;
export const WARN_LABEL = `${LABEL_PREFIX}warn`;
export const WARN_VERSION_LABEL = `${LABEL_PREFIX}warn-version`;

export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** `latest` or `v1.<minor>`; the checks evaluated are always those of "latest". */
export type PolicyVersion = string;

export interface LevelVersion {
  level: Level;
  version: PolicyVersion;
}

export type Mode = 'enforce' | 'audit' | 'warn';

export type Policy = Record<Mode, LevelVersion>;

/** One unparseable label (or configuration value). */
export interface PolicyValueError {
  /** The label key, or the configuration field (`defaults.enforce`). */
  field: string;
  value: string;
  message: string;
}

export const LEVEL_ERROR = `must be one of ${LEVELS.join(', ')}`;
export const VERSION_ERROR = 'must be "latest" or "v1.x"';

export function isLevel(value: string): value is Level {
  return LEVELS.some((level) => level === value);
}

/** `latest` or `v1.N` without leading zeros; undefined for anything else. */
export function parseVersion(value: string): PolicyVersion | undefined {
  if (value === 'latest') return value;
  const match = /^v1\.(0|[1-9][0-9]*)$/.exec(value);
  if (match === null || !Number.isSafeInteger(Number(match[1]))) return undefined;
  return value;
}

export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${lv.version}`;
}

/** -1 when a is less strict than b, 0 when equal, 1 when stricter. */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

/** Two privileged settings are the same whatever their versions. */
export function equivalentLevelVersions(a: LevelVersion, b: LevelVersion): boolean {
  return (a.level === 'privileged' && b.level === 'privileged') || (a.level === b.level && a.version === b.version);
}

export function equivalentPolicies(a: Policy, b: Policy): boolean {
  return (['enforce', 'audit', 'warn'] as const).every((mode) => equivalentLevelVersions(a[mode], b[mode]));
}

export function fullyPrivileged(policy: Policy): boolean {
  return (
    policy.enforce.level === 'privileged' && policy.audit.level === 'privileged' && policy.warn.level === 'privileged'
  );
}

export function uniformPolicy(level: Level, version: PolicyVersion = 'latest'): Policy {
  return { enforce: { level, version }, audit: { level, version }, warn: { level, version } };
}

export interface LabelPolicy {
  policy: Policy;
  errors: PolicyValueError[];
}

interface ModeLabels {
  mode: Mode;
  levelLabel: string;
  versionLabel: string;
  /** What an unparseable level becomes. */
  fallback: Level;
}

const MODE_LABELS: readonly ModeLabels[] = [
  { mode: 'enforce', levelLabel: ENFORCE_LABEL, versionLabel: ENFORCE_VERSION_LABEL, fallback: 'restricted' },
  { mode: 'audit', levelLabel: AUDIT_LABEL, versionLabel: AUDIT_VERSION_LABEL, fallback: 'privileged' },
  { mode: 'warn', levelLabel: WARN_LABEL, versionLabel: WARN_VERSION_LABEL, fallback: 'privileged' },
];

/**
 * The policy a namespace's labels ask for, over the defaults for what they leave out. A
 * usable policy always comes back; `errors` lists the labels that could not be parsed.
 */
export function policyFromLabels(labels: Record<string, string> | undefined, defaults: Policy): LabelPolicy {
  const policy: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: PolicyValueError[] = [];
  const has = (key: string): boolean => labels !== undefined && Object.hasOwn(labels, key);
  let enforceLevelValid = false;
  for (const { mode, levelLabel, versionLabel, fallback } of MODE_LABELS) {
    if (labels !== undefined && has(levelLabel)) {
      const value = labels[levelLabel] ?? '';
      if (isLevel(value)) {
        policy[mode].level = value;
        if (mode === 'enforce') enforceLevelValid = true;
      } else {
        policy[mode].level = fallback;
        errors.push({ field: levelLabel, value, message: LEVEL_ERROR });
      }
    }
    if (labels !== undefined && has(versionLabel)) {
      const value = labels[versionLabel] ?? '';
      const version = parseVersion(value);
      policy[mode].version = version ?? 'latest';
      if (version === undefined) errors.push({ field: versionLabel, value, message: VERSION_ERROR });
    }
  }
  // A stricter enforce level also warns, unless warn is labelled itself.
  if (!has(WARN_LABEL) && enforceLevelValid && compareLevels(policy.enforce.level, policy.warn.level) > 0) {
    policy.warn.level = policy.enforce.level;
    if (!has(WARN_VERSION_LABEL)) policy.warn.version = policy.enforce.version;
  }
  return { policy, errors };
}

/** Kubernetes' field error text: `metadata.labels[key]: Invalid value: "x": why`. */
export function labelErrorMessage(error: PolicyValueError): string {
  return `metadata.labels[${error.field}]: Invalid value: ${JSON.stringify(error.value)}: ${error.message}`;
}
