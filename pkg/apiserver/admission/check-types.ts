// The shape every Pod Security check shares, and the small text helpers that make their
// messages read exactly like Kubernetes' (users grep for these strings).

import type { ContainerView, PodView } from './pod-view.js';

export type Level = 'privileged' | 'baseline' | 'restricted';

/** Why a check refused a pod: `reason (detail)` in the message, plus the offending fields. */
export interface Violation {
  /** Short, always shown: `host namespaces`. */
  reason: string;
  /** Specific values, shown in parentheses after the reason: `hostNetwork=true`. */
  detail: string;
  /** Field paths inside the pod (`spec.containers[0].securityContext.privileged`). */
  fields: string[];
}

export interface Check {
  /** Kubernetes' check ID (`hostNamespaces`, `capabilities_restricted`, …); also the order key. */
  id: string;
  level: 'baseline' | 'restricted';
  /** Baseline checks a restricted check replaces at the restricted level. */
  overrides?: string[];
  evaluate(pod: PodView): Violation | undefined;
}

/** `"a", "b"` */
export function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** Sorted and without duplicates, as Go's string sets list them (byte order). */
export function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `containers "a", "b"` */
export function containerNames(containers: readonly ContainerView[]): string {
  return `${pluralize('container', 'containers', containers.length)} ${joinQuote(containers.map((c) => c.name))}`;
}

/** Who set a forbidden value: `pod and containers "a", "b"`. */
export function setters(podSetsIt: boolean, containers: readonly ContainerView[]): string {
  const parts: string[] = [];
  if (podSetsIt) parts.push('pod');
  if (containers.length > 0) parts.push(containerNames(containers));
  return parts.join(' and ');
}

/** Go's `%q` for the plain strings labels and annotations hold. */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}
