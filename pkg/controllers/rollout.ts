// Helpers the rolling controllers (Deployment, DaemonSet, StatefulSet) share: a stable hash
// naming a pod template's revision, and int-or-percent budgets (maxSurge, maxUnavailable).

import { createHash } from 'node:crypto';
import { isObject } from '../api/meta.js';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A pod template as it means the same: `metadata.creationTimestamp: null` (what Go clients
 * write for a template, e.g. `kubectl rollout undo`) is the same as none.
 */
export function normalizedTemplate<T>(template: T): T {
  if (!isObject(template) || !isObject(template['metadata'])) return template;
  const metadata = template['metadata'];
  if (!('creationTimestamp' in metadata) || metadata['creationTimestamp'] !== null) return template;
  const rest = { ...metadata };
  delete rest['creationTimestamp'];
  return { ...template, metadata: rest };
}

/** A short, stable, DNS-safe hash of a pod template. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(normalizedTemplate(template)))
    .digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[(digest[i] ?? 0) % ALPHABET.length];
  return out;
}

/** maxSurge against a total: a percentage rounds up. */
export function resolveSurge(value: number | string, total: number): number {
  return resolveIntOrPercent(value, total, Math.ceil);
}

/** maxUnavailable against a total: a percentage rounds down. */
export function resolveUnavailable(value: number | string, total: number): number {
  return resolveIntOrPercent(value, total, Math.floor);
}

function resolveIntOrPercent(value: number | string, total: number, round: (x: number) => number): number {
  if (typeof value === 'number') return value;
  const m = value.match(/^(\d+)%$/);
  if (m === null) return Number(value) || 0;
  return round((Number(m[1]) / 100) * total);
}
