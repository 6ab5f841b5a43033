// Resource quantities (`100m`, `0.5`, `128Mi`, `1G`) as numbers in base units (cores, bytes).

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  const m = String(q)
    .trim()
    .match(/^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/);
  if (m === null) throw new Error(`invalid quantity "${String(q)}"`);
  return Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? 1);
}
