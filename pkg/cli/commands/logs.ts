// coxctl logs: a container's output through the apiserver (which relays to the node agent),
// with -f, --previous, --tail, --timestamps and --since, as kubectl.
//
// -f survives an apiserver restart: coxctl always asks for timestamps while following, and
// when the stream breaks it asks again from the last line it printed (pkg/api/log-resume.ts).

import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { LogResume, withoutTimestamp } from '../../api/log-resume.js';
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
