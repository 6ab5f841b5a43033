// coxctl logs: a container's output through the apiserver (which relays to the node agent),
// with -f, --previous, --tail, --timestamps and --since, as kubectl.
//
// -f survives an apiserver restart: coxctl always asks for timestamps while following, and
// when the stream breaks it asks again with sinceTime = the timestamp of the last line it
// printed. The runtime may send lines from that instant again (Docker's `since` is inclusive
// and the agent keeps milliseconds), so a resumed stream skips lines older than that
// timestamp and, of the lines stamped exactly with it, as many as were already printed.

import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { brokenBy, isRetryable, withReconnect, type SessionEnd } from '../reconnect.js';

const PODS = RESOURCES.pods;

export interface LogsFlags {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
}

/** `5m`, `30s`, `1h` → seconds. */
export function durationSeconds(text: string): number {
  const m = text.match(/^(\d+)(s|m|h)$/);
  if (m === null) throw new CliError(`invalid duration "${text}" (use e.g. 30s, 5m, 1h)`);
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

/** An RFC 3339 timestamp with 0 to 9 (or more) fraction digits as nanoseconds since the epoch. */
export function timestampNanos(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (m === null) return undefined;
  const seconds = Date.parse(`${m[1] ?? ''}${m[3] ?? ''}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Where a followed log resumes, and the de-duplication rule for what the server sends again. */
export class LogResume {
  /** The timestamp (as sent) of the last printed line. */
  private at: string | undefined;
  private atNanos: bigint | undefined;
  /** Lines printed that carry exactly `at`. */
  private printedAt = 0;
  /** In a resumed stream: lines stamped `at` still to skip. */
  private skipAt = 0;

  sinceTime(): string | undefined {
    return this.at;
  }

  /** A new stream starts: lines stamped with the resume instant were printed before. */
  restart(): void {
    this.skipAt = this.printedAt;
  }

  /** Whether a timestamped line is new; records it when it is. */
  accept(line: string): boolean {
    const space = line.indexOf(' ');
    const ts = space === -1 ? line : line.slice(0, space);
    const nanos = timestampNanos(ts);
    if (nanos === undefined) return true;
    if (this.atNanos !== undefined && nanos < this.atNanos) return false;
    if (this.atNanos !== undefined && nanos === this.atNanos) {
      if (this.skipAt > 0) {
        this.skipAt--;
        return false;
      }
      this.printedAt++;
      return true;
    }
    this.at = ts;
    this.atNanos = nanos;
    this.printedAt = 1;
    this.skipAt = 0;
    return true;
  }
}

function withoutTimestamp(line: string): string {
  const space = line.indexOf(' ');
  return space === -1 ? line : line.slice(space + 1);
}

export async function runLogs(ctx: CliContext, podArg: string, flags: LogsFlags): Promise<void> {
  const name = podArg.startsWith('pod/') ? podArg.slice(4) : podArg;
  const query: Record<string, string | undefined> = {
    container: flags.container,
    follow: flags.follow ? 'true' : undefined,
    previous: flags.previous ? 'true' : undefined,
    tailLines: flags.tail !== undefined && flags.tail !== '-1' ? flags.tail : undefined,
    timestamps: flags.timestamps || flags.follow ? 'true' : undefined,
    sinceSeconds: flags.since !== undefined ? String(durationSeconds(flags.since)) : undefined,
  };
  const open = (q: Record<string, string | undefined>): Promise<IncomingMessage> =>
    ctx.client().stream({
      method: 'GET',
      path: resourcePath(PODS, { namespace: ctx.namespace(), name, subresource: 'log' }),
      query: q,
    });
  if (!flags.follow) {
    const res = await open(query);
    const decoder = new StringDecoder('utf8');
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => ctx.io.stdout(decoder.write(c)));
      res.on('end', () => {
        const rest = decoder.end();
        if (rest) ctx.io.stdout(rest);
        resolve();
      });
      res.on('error', reject);
    });
    return;
  }
  const resume = new LogResume();
  const print = (line: string): void => {
    if (resume.accept(line)) ctx.io.stdout((flags.timestamps ? line : withoutTimestamp(line)) + '\n');
  };
  const session = async (): Promise<SessionEnd> => {
    const since = resume.sinceTime();
    resume.restart();
    let res: IncomingMessage;
    try {
      res = await open(
        since === undefined ? query : { ...query, tailLines: undefined, sinceSeconds: undefined, sinceTime: since },
      );
    } catch (err) {
      if (!isRetryable(err)) throw err;
      return brokenBy(err, false);
    }
    return new Promise<SessionEnd>((resolve) => {
      const decoder = new StringDecoder('utf8');
      let partial = '';
      let progressed = false;
      let settled = false;
      const settle = (end: SessionEnd): void => {
        if (settled) return;
        settled = true;
        resolve(end);
      };
      res.on('data', (c: Buffer) => {
        progressed = true;
        const lines = (partial + decoder.write(c)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) print(line);
      });
      // A complete response means the container stopped: kubectl ends there too. A cut one
      // (the apiserver went away) is resumed; an unfinished last line is asked for again.
      res.on('end', () => {
        if (!res.complete) return settle({ kind: 'broken', progressed, reason: 'the log stream was cut' });
        const rest = partial + decoder.end();
        if (rest !== '') print(rest);
        settle({ kind: 'done' });
      });
      res.on('aborted', () => settle({ kind: 'broken', progressed, reason: 'the log stream was cut' }));
      res.on('error', (err) => settle(brokenBy(err, progressed)));
      res.on('close', () => settle({ kind: 'broken', progressed, reason: 'the log stream was cut' }));
    });
  };
  await withReconnect(`logs of pod/${name}`, session, { notice: (line) => ctx.err(line) });
}
