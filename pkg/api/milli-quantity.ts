// Exact resource quantities for sums and comparisons (quota usage, LimitRange bounds): a
// quantity as a whole number of thousandths (bigint, rounded up as Kubernetes' MilliValue
// does), and back to Kubernetes' canonical text (`500m`, `1`, `128Mi`, `2k`) for messages.
// quantity.ts stays the float view the scheduler and kubelet use.

/** Kubernetes' quantity grammar: a signed decimal, then a binary or decimal suffix or an exponent. */
const GRAMMAR = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d{1,3})?$/;
const BINARY_POWER: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_POWER: Record<string, number> = { m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Digits beyond this are not a quantity anyone means (and would make bigints grow). */
const MAX_DIGITS = 40;
const MAX_EXPONENT = 30;

export type QuantityFormat = 'BinarySI' | 'DecimalSI';

const ceilDiv = (n: bigint, d: bigint): bigint => (n >= 0n ? (n + d - 1n) / d : -(-n / d));

/** A quantity in thousandths of its unit, rounded up; undefined when it is no quantity. */
export function parseMilli(q: unknown): bigint | undefined {
  const text = typeof q === 'number' && Number.isFinite(q) ? String(q) : q;
  if (typeof text !== 'string' || text.length > MAX_DIGITS + 8) return undefined;
  const m = GRAMMAR.exec(text);
  if (m === null) return undefined;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = m;
  if (whole === '' && fraction === '') return undefined;
  if (whole.length + fraction.length > MAX_DIGITS) return undefined;
  let numerator = BigInt(`${whole}${fraction}` || '0') * 1000n;
  let denominator = 10n ** BigInt(fraction.length);
  const binary = BINARY_POWER[suffix];
  if (binary !== undefined) numerator *= 1024n ** BigInt(binary);
  else {
    const power = DECIMAL_POWER[suffix] ?? (suffix === '' ? 0 : Number(suffix.slice(1)));
    if (Math.abs(power) > MAX_EXPONENT) return undefined;
    if (power >= 0) numerator *= 10n ** BigInt(power);
    else denominator *= 10n ** BigInt(-power);
  }
  const milli = ceilDiv(numerator, denominator);
  return sign === '-' ? -milli : milli;
}

/** The format a quantity was written in: binary suffixes stay binary when printed. */
export function formatOf(q: unknown): QuantityFormat {
  return typeof q === 'string' && /[KMGTPE]i$/.test(q) ? 'BinarySI' : 'DecimalSI';
}

/** Canonical text of a quantity given in thousandths (Kubernetes' Quantity.String()). */
export function formatMilli(milli: bigint, format: QuantityFormat = 'DecimalSI'): string {
  if (milli === 0n) return '0';
  const sign = milli < 0n ? '-' : '';
  const abs = milli < 0n ? -milli : milli;
  if (abs % 1000n !== 0n) return `${sign}${abs}m`;
  const value = abs / 1000n;
  if (format === 'BinarySI' && value >= 1024n) {
    const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
    let n = value;
    let i = 0;
    while (i < suffixes.length - 1 && n % 1024n === 0n) {
      n /= 1024n;
      i++;
    }
    return `${sign}${n}${suffixes[i] ?? ''}`;
  }
  const suffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let n = value;
  let i = 0;
  while (i < suffixes.length - 1 && n % 1000n === 0n) {
    n /= 1000n;
    i++;
  }
  return `${sign}${n}${suffixes[i] ?? ''}`;
}

/** A quantity as Kubernetes prints it (`1000m` → `1`, `0.5` → `500m`), or the text itself if it does not parse. */
export function canonicalQuantity(q: unknown): string {
  const milli = parseMilli(q);
  return milli === undefined ? String(q) : formatMilli(milli, formatOf(q));
}
