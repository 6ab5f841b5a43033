// Structured logs (klog's key/value style): one line per entry —
//   2026-01-02T03:04:05.678Z info  namespace finalized controller=namespace key=demo
// Context travels with the logger (`log.with({controller, key})`), so a message says what
// happened and the fields say to what. Values with spaces, quotes or "=" are JSON-quoted.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LoggerOptions {
  /** Where lines go (default: stdout). */
  write?: (line: string) => void;
  /** Entries below this level are dropped (default info). */
  level?: Level;
  /** The clock, for tests (default: now). */
  now?: () => Date;
}

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger adding `fields` to every entry (later fields win over earlier ones of the same key). */
  with(fields: Fields): Logger;
}

function formatValue(v: string | number | boolean): string {
  const s = String(v);
  return s === '' || /[\s"=\\]/.test(s) ? JSON.stringify(s) : s;
}

/** `k=v` pairs in insertion order; undefined values are left out. */
export function formatFields(fields: Fields): string {
  return Object.entries(fields)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

class FieldLogger implements Logger {
  constructor(
    private readonly opts: Required<LoggerOptions>,
    private readonly context: Fields,
  ) {}

  private entry(level: Level, msg: string, fields: Fields | undefined): void {
    if (RANK[level] < RANK[this.opts.level]) return;
    // One line per entry: a message with newlines must not forge further entries.
    const text = msg.replace(/\r?\n/g, '\\n');
    const kv = formatFields({ ...this.context, ...fields });
    this.opts.write(`${this.opts.now().toISOString()} ${level.padEnd(5)} ${text}${kv === '' ? '' : ' ' + kv}\n`);
  }

  debug(msg: string, fields?: Fields): void {
    this.entry('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.entry('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.entry('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.entry('error', msg, fields);
  }
  with(fields: Fields): Logger {
    return new FieldLogger(this.opts, { ...this.context, ...fields });
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new FieldLogger(
    {
      write: opts.write ?? ((line) => void process.stdout.write(line)),
      level: opts.level ?? 'info',
      now: opts.now ?? (() => new Date()),
    },
    {},
  );
}

/** The `(msg) => void` shape older modules take, writing at info level. */
export function lineLogger(log: Logger): (msg: string) => void {
  return (msg) => log.info(msg);
}
