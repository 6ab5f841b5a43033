// Runs the checks of a level against a pod and joins the violations into Kubernetes'
// message form: `reason (detail), reason, …` in check-ID order, baseline checks first.

import type { ObjectMeta, PodSpec } from '../../api/index.js';
import { type Check, type Level, type Violation, sortedSet } from './check-types.js';
import { BASELINE_CHECKS } from './checks-baseline.js';
import { RESTRICTED_CHECKS } from './checks-restricted.js';
import { type PodView, podView } from './pod-view.js';

function byId(checks: readonly Check[]): Check[] {
  const ids = sortedSet(checks.map((check) => check.id));
  return ids.flatMap((id) => checks.filter((check) => check.id === id));
}

const OVERRIDDEN_AT_RESTRICTED = new Set(RESTRICTED_CHECKS.flatMap((check) => check.overrides ?? []));

const CHECKS_BY_LEVEL: Record<Level, readonly Check[]> = {
  privileged: [],
  baseline: byId(BASELINE_CHECKS),
  restricted: [
    ...byId(BASELINE_CHECKS).filter((check) => !OVERRIDDEN_AT_RESTRICTED.has(check.id)),
    ...byId(RESTRICTED_CHECKS),
  ],
};

/** The IDs of the checks a level runs, in evaluation order. */
export function checkIds(level: Level): string[] {
  return CHECKS_BY_LEVEL[level].map((check) => check.id);
}

export interface Evaluation {
  allowed: boolean;
  violations: (Violation & { check: string })[];
}

/** Evaluates an already-built pod view; the cheap path when one pod meets several levels. */
export function evaluateView(level: Level, pod: PodView): Evaluation {
  const violations: Evaluation['violations'] = [];
  for (const check of CHECKS_BY_LEVEL[level]) {
    const violation = check.evaluate(pod);
    if (violation !== undefined) violations.push({ check: check.id, ...violation });
  }
  return { allowed: violations.length === 0, violations };
}

/** Evaluates a pod (or a pod template's metadata and spec) at a level. */
export function evaluatePod(level: Level, pod: { metadata?: ObjectMeta; spec: PodSpec }): Evaluation {
  return evaluateView(level, podView(pod.metadata, pod.spec));
}

/** `host namespaces (hostNetwork=true), privileged (…)`: what a refused pod is told. */
export function forbiddenDetail(evaluation: Evaluation): string {
  return evaluation.violations.map((v) => (v.detail === '' ? v.reason : `${v.reason} (${v.detail})`)).join(', ');
}

/** `host namespaces, privileged`: the short form used when summarising existing pods. */
export function forbiddenReason(evaluation: Evaluation): string {
  return evaluation.violations.map((v) => v.reason).join(', ');
}
