// The human answer of `coxctl why`: the first cause on one line, its facts indented, the
// command to run next, then the supporting findings.

import type { Diagnosis } from './types.js';

export function renderDiagnosis(d: Diagnosis): string {
  const [first, ...rest] = d.findings;
  const lines = [
    d.healthy
      ? `${d.subject} ${d.verdict}: ${first.summary}`
      : `${d.subject} ${d.verdict}: ${first.reason} — ${first.summary}`,
  ];
  for (const fact of first.details) lines.push(`  ${fact}`);
  if (first.next !== undefined) lines.push(`  next: ${first.next}`);
  if (rest.length > 0) lines.push('also:');
  for (const f of rest) {
    lines.push(`  - ${f.summary}`);
    for (const fact of f.details) lines.push(`    ${fact}`);
    if (f.next !== undefined) lines.push(`    next: ${f.next}`);
  }
  return lines.join('\n');
}
