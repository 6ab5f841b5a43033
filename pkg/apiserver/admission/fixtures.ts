// Builders for the admission tests: pods and templates written as plain JSON (with the
// fields pkg/api/types does not model yet), checked into their API types by guards.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isObject } from '../../api/index.js';
import type { Namespace, Pod, PodSpec } from '../../api/index.js';
import { podSecurityConfig } from './config.js';
import type { AdmissionRequest } from './admission.js';
import type { Level } from './check-types.js';
import { evaluatePod } from './evaluate.js';

function isPodSpec(value: unknown): value is PodSpec {
  return isObject(value) && Array.isArray(value.containers);
}

function isPod(value: unknown): value is Pod {
  return isObject(value) && isObject(value.metadata) && isPodSpec(value.spec);
}

function isNamespace(value: unknown): value is Namespace {
  return isObject(value) && value.kind === 'Namespace' && isObject(value.metadata);
}

/** A PodSpec from JSON; `containers` defaults to one plain container "c". */
export function specOf(fields: Record<string, unknown> = {}): PodSpec {
  const value: unknown = { containers: [{ name: 'c', image: 'busybox' }], ...fields };
  assert(isPodSpec(value));
  return value;
}

export function podOf(fields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Pod {
  const value: unknown = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'x', namespace: 'ns', ...metadata },
    spec: specOf(fields),
  };
  assert(isPod(value));
  return value;
}

/** A spec that meets the restricted level, to be spoiled one field at a time. */
export function restrictedContainer(name = 'c', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    image: 'busybox',
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...extra,
  };
}

export function namespaceOf(name: string, labels: Record<string, string> = {}): Namespace {
  const value: unknown = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
  assert(isNamespace(value));
  return value;
}

export function requestOf(fields: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { operation: 'CREATE', namespace: 'ns', name: 'x', userName: 'alice', ...fields };
}

export const privilegedDefaults = podSecurityConfig();

// ---- table-driven check cases ------------------------------------------------------------

export interface Case {
  name: string;
  spec?: Record<string, unknown>;
  annotations?: Record<string, string>;
  /** The violation the check gives; undefined: the check passes. */
  reason?: string;
  detail?: string;
  fields?: string[];
}

/** The one violation of `check` (or none) at `level`. */
function violationOf(
  check: string,
  level: Level,
  c: Case,
): { reason: string; detail: string; fields: string[] } | undefined {
  const result = evaluatePod(level, { metadata: { annotations: c.annotations }, spec: specOf(c.spec) });
  const found = result.violations.find((v) => v.check === check);
  return found && { reason: found.reason, detail: found.detail, fields: found.fields };
}

/** One test per case and level: the check's violation (reason, detail, fields) or none. */
export function runCases(check: string, levels: Level[], cases: Case[]): void {
  describe(check, () => {
    for (const level of levels) {
      for (const c of cases) {
        it(`${level}: ${c.name}`, () => {
          const violation = violationOf(check, level, c);
          if (c.reason === undefined) {
            assert.equal(violation, undefined);
            return;
          }
          assert.ok(violation, 'expected a violation');
          assert.equal(violation.reason, c.reason);
          assert.equal(violation.detail, c.detail);
          if (c.fields) assert.deepEqual(violation.fields, c.fields);
        });
      }
    }
  });
}

export function container(
  name: string,
  securityContext: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, image: 'busybox', securityContext, ...extra };
}
