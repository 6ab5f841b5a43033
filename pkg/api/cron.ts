// Five-field cron schedules (minute hour day-of-month month day-of-week) and the @ macros,
// as CronJob accepts them: parsing with clear errors, and the next run after a time.

import { errorMessage } from '../errors/index.js';

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Day-of-month and day-of-week both restricted: either may match (cron's rule). */
  dayOr: boolean;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The range of one cron field and, for months and weekdays, its names (`names[0]` is `nameBase`). */
interface FieldSpec {
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const { min, max, names, nameBase = 0 } = spec;
  const out = new Set<number>();
  const value = (s: string): number => {
    const i = names?.indexOf(s.toLowerCase()) ?? -1;
    if (i >= 0) return i + nameBase;
    if (!/^\d+$/.test(s)) throw new Error(`failed to parse int from ${s}`);
    return Number(s);
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw new Error(`invalid step in "${part}"`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
    } else if (range !== undefined && range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a ?? '');
      hi = value(b ?? '');
    } else {
      lo = value(range ?? '');
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`end of range (${hi}) above maximum (${max}): ${part}`);
    for (let v = lo; v <= hi; v += step) out.add(v === 7 && max === 7 ? 0 : v);
  }
  return out;
}

export function parseCronSchedule(text: string): { schedule?: CronSchedule; error?: string } {
  const expanded = MACROS[text.trim()] ?? text.trim();
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5) return { error: `expected exactly 5 fields, found ${fields.length}: ${text}` };
  try {
    // Five fields, counted above: the defaults never apply.
    const [mi = '', h = '', dom = '', mo = '', dow = ''] = fields;
    return {
      schedule: {
        minutes: parseField(mi, { min: 0, max: 59 }),
        hours: parseField(h, { min: 0, max: 23 }),
        days: parseField(dom, { min: 1, max: 31 }),
        months: parseField(mo, { min: 1, max: 12, names: MONTHS, nameBase: 1 }),
        weekdays: parseField(dow, { min: 0, max: 7, names: DAYS }),
        dayOr: dom !== '*' && dom !== '?' && dow !== '*' && dow !== '?',
      },
    };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** The first scheduled minute strictly after `after` (UTC), within four years. */
export function nextRun(s: CronSchedule, after: Date): Date | undefined {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = after.getTime() + 4 * 366 * 24 * 3600 * 1000;
  while (t.getTime() < limit) {
    const dayOk = s.dayOr
      ? s.days.has(t.getUTCDate()) || s.weekdays.has(t.getUTCDay())
      : s.days.has(t.getUTCDate()) && s.weekdays.has(t.getUTCDay());
    if (!s.months.has(t.getUTCMonth() + 1) || !dayOk) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return undefined;
}
