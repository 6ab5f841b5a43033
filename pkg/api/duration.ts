// Go-style durations as Kubernetes flags take them: `90s`, `15m`, `24h`, `1h30m`, `8760h0m0s`.

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds in a duration, or undefined when it is not one. A bare number is seconds. */
export function parseDurationSeconds(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1);
    matched = re.lastIndex;
  }
  return matched === t.length && t.length > 0 ? total : undefined;
}
