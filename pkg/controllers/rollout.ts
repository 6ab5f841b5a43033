// Helpers the rolling controllers (Deployment, DaemonSet, StatefulSet) share: a stable hash
// naming a pod template's revision, and int-or-percent budgets (maxSurge, maxUnavailable).

import { createHash } from 'node:crypto';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A short, stable, DNS-safe hash of a pod template. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[(digest[i] ?? 0) % ALPHABET.length];
  return out;
}

/** An int-or-percent against a total: surge rounds up, unavailable rounds down. */
export function resolveIntOrPercent(
  v: number | string | undefined,
  total: number,
  roundUp: boolean,
  dflt: string,
): number {
  const value = v ?? dflt;
  if (typeof value === 'number') return value;
  const m = value.match(/^(\d+)%$/);
  if (m === null) return Number(value) || 0;
  const raw = (Number(m[1]) / 100) * total;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}
