// The admission's configuration: default levels for unlabelled namespaces and the
// exemptions, in the shape of Kubernetes' PodSecurityConfiguration
// (pod-security.admission.config.k8s.io/v1) so an existing file can be read as is.

import { isObject } from '../../api/index.js';
import type { Level } from './check-types.js';
import { LEVEL_ERROR, VERSION_ERROR, isLevel, parseVersion, type Policy, type PolicyValueError } from './policy.js';

export interface PodSecurityExemptions {
  /** Requests by these users are not checked (controllers creating pods still are). */
  usernames: string[];
  namespaces: string[];
  /** Pods with these `spec.runtimeClassName`s are not checked. */
  runtimeClasses: string[];
}

export interface PodSecurityConfig {
  defaults: Policy;
  exemptions: PodSecurityExemptions;
}

export const CONFIG_API_VERSION = 'pod-security.admission.config.k8s.io/v1';
export const CONFIG_KIND = 'PodSecurityConfiguration';

/** Every mode at `level:latest`, no exemptions: what `--pod-security-default=<level>` means. */
export function podSecurityConfig(
  defaultLevel: Level = 'privileged',
  exemptions: Partial<PodSecurityExemptions> = {},
): PodSecurityConfig {
  const lv = (): { level: Level; version: string } => ({ level: defaultLevel, version: 'latest' });
  return {
    defaults: { enforce: lv(), audit: lv(), warn: lv() },
    exemptions: {
      usernames: exemptions.usernames ?? [],
      namespaces: exemptions.namespaces ?? [],
      runtimeClasses: exemptions.runtimeClasses ?? [],
    },
  };
}

/** Reads the value of `--pod-security-default`: a level, refused otherwise. */
export function parseDefaultLevel(value: string): Level {
  if (!isLevel(value)) throw new Error(`--pod-security-default: ${JSON.stringify(value)} ${LEVEL_ERROR}`);
  return value;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ParsedConfig {
  config: PodSecurityConfig;
  errors: PolicyValueError[];
}

function readDefaults(raw: unknown, errors: PolicyValueError[]): Policy {
  const policy = podSecurityConfig().defaults;
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    const level: unknown = isObject(raw) ? raw[mode] : undefined;
    const version: unknown = isObject(raw) ? raw[`${mode}-version`] : undefined;
    if (level !== undefined) {
      const text = String(level);
      if (isLevel(text)) policy[mode].level = text;
      else errors.push({ field: `defaults.${mode}`, value: text, message: LEVEL_ERROR });
    }
    if (version !== undefined) {
      const text = String(version);
      const parsed = parseVersion(text);
      if (parsed !== undefined) policy[mode].version = parsed;
      else errors.push({ field: `defaults.${mode}-version`, value: text, message: VERSION_ERROR });
    }
  }
  return policy;
}

function readNames(
  raw: unknown,
  where: { field: string; valid: (name: string) => boolean; why: string },
  errors: PolicyValueError[],
): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    errors.push({ field: where.field, value: String(raw), message: 'must be a list of strings' });
    return [];
  }
  const names: string[] = [];
  raw.forEach((item: unknown, index) => {
    const field = `${where.field}[${index}]`;
    if (typeof item !== 'string' || !where.valid(item)) {
      errors.push({ field, value: String(item), message: where.why });
    } else if (names.includes(item)) {
      errors.push({ field, value: item, message: 'Duplicate value' });
    } else {
      names.push(item);
    }
  });
  return names;
}

/**
 * Reads a PodSecurityConfiguration object (already decoded from YAML/JSON). Unset defaults
 * are `privileged:latest`, as in Kubernetes; every invalid value is reported.
 */
export function parsePodSecurityConfiguration(raw: unknown): ParsedConfig {
  const errors: PolicyValueError[] = [];
  if (!isObject(raw)) {
    return { config: podSecurityConfig(), errors: [{ field: '', value: String(raw), message: 'must be an object' }] };
  }
  if (raw.kind !== undefined && raw.kind !== CONFIG_KIND) {
    errors.push({ field: 'kind', value: String(raw.kind), message: `must be ${CONFIG_KIND}` });
  }
  const exemptions: unknown = raw.exemptions;
  const list = (key: string): unknown => (isObject(exemptions) ? exemptions[key] : undefined);
  const config: PodSecurityConfig = {
    defaults: readDefaults(raw.defaults, errors),
    exemptions: {
      usernames: readNames(
        list('usernames'),
        { field: 'exemptions.usernames', valid: (name) => name !== '', why: 'username must not be empty' },
        errors,
      ),
      namespaces: readNames(
        list('namespaces'),
        {
          field: 'exemptions.namespaces',
          valid: (name) => name.length <= 63 && DNS1123_LABEL.test(name),
          why: 'must be a lowercase RFC 1123 label',
        },
        errors,
      ),
      runtimeClasses: readNames(
        list('runtimeClasses'),
        {
          field: 'exemptions.runtimeClasses',
          valid: (name) => name.length <= 253 && DNS1123_SUBDOMAIN.test(name),
          why: 'must be a lowercase RFC 1123 subdomain',
        },
        errors,
      ),
    },
  };
  return { config, errors };
}
