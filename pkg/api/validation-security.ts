// Security settings Coxswain's container runtime (Docker, one PID namespace per container,
// no SELinux, no user namespaces per pod) cannot apply: refused at validation, with the
// field named, so nothing accepted is silently dropped. Also Kubernetes' own rule that
// allowPrivilegeEscalation: false cannot go with privileged or CAP_SYS_ADMIN.

import type { StatusCause } from '../errors/index.js';
import { isObject } from './meta.js';

const UNSUPPORTED = "not supported by Coxswain's Docker runtime, which would ignore it";
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function forbidden(field: string, why: string): StatusCause {
  return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${why}` };
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.values(value).some(isSet);
  return value !== '';
}

/** seLinuxOptions, windowsOptions and Localhost profiles, at either level. */
function sharedCauses(context: Record<string, unknown>, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const key of ['seLinuxOptions', 'windowsOptions'])
    if (isSet(context[key])) causes.push(forbidden(`${field}.${key}`, UNSUPPORTED));
  for (const key of ['seccompProfile', 'appArmorProfile']) {
    const profile = context[key];
    const type = isObject(profile) ? profile['type'] : undefined;
    if (type !== undefined && type !== 'RuntimeDefault' && type !== 'Unconfined')
      causes.push(forbidden(`${field}.${key}.type`, `${JSON.stringify(type)} is ${UNSUPPORTED}`));
  }
  return causes;
}

function containerCauses(container: Record<string, unknown>, field: string): StatusCause[] {
  const context = container['securityContext'];
  if (!isObject(context)) return [];
  const at = `${field}.securityContext`;
  const causes = sharedCauses(context, at);
  const procMount = context['procMount'];
  if (procMount !== undefined && procMount !== 'Default')
    causes.push(forbidden(`${at}.procMount`, `${JSON.stringify(procMount)} is ${UNSUPPORTED}`));
  if (context['allowPrivilegeEscalation'] === false) {
    if (context['privileged'] === true)
      causes.push(forbidden(at, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    const capabilities = context['capabilities'];
    const add = isObject(capabilities) && Array.isArray(capabilities['add']) ? capabilities['add'] : [];
    if (add.some((name) => name === 'SYS_ADMIN' || name === 'CAP_SYS_ADMIN'))
      causes.push(forbidden(at, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
  }
  return causes;
}

/** The causes for a pod spec at `field` (with its pod's annotations, for AppArmor's old form). */
export function unsupportedSecurityCauses(
  spec: Record<string, unknown>,
  at: { field: string; annotations: unknown; annotationsField: string },
): StatusCause[] {
  const { field } = at;
  const causes: StatusCause[] = [];
  const context = spec['securityContext'];
  if (isObject(context)) {
    const podAt = `${field}.securityContext`;
    causes.push(...sharedCauses(context, podAt));
    if (isSet(context['sysctls'])) causes.push(forbidden(`${podAt}.sysctls`, UNSUPPORTED));
    if (context['supplementalGroupsPolicy'] === 'Strict')
      causes.push(forbidden(`${podAt}.supplementalGroupsPolicy`, `"Strict" is ${UNSUPPORTED}`));
  }
  if (spec['hostUsers'] === false) causes.push(forbidden(`${field}.hostUsers`, `false is ${UNSUPPORTED}`));
  for (const key of ['initContainers', 'containers']) {
    const list = spec[key];
    if (!Array.isArray(list)) continue;
    list.forEach((container: unknown, i) => {
      if (isObject(container)) causes.push(...containerCauses(container, `${field}.${key}[${i}]`));
    });
  }
  if (isObject(at.annotations)) {
    for (const [key, value] of Object.entries(at.annotations)) {
      if (key.startsWith(APPARMOR_ANNOTATION_PREFIX) && typeof value === 'string' && value.startsWith('localhost/'))
        causes.push(forbidden(`${at.annotationsField}[${key}]`, `${JSON.stringify(value)} is ${UNSUPPORTED}`));
    }
  }
  return causes;
}
