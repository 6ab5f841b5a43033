// coxctl logs: a container's output through the apiserver (which relays to the node agent),
// with -f, --previous, --tail, --timestamps and --since, as kubectl.

import { StringDecoder } from 'node:string_decoder';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';

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
    timestamps: flags.timestamps ? 'true' : undefined,
    sinceSeconds: flags.since !== undefined ? String(durationSeconds(flags.since)) : undefined,
  };
  const res = await ctx.client().stream({
    method: 'GET',
    path: resourcePath(PODS, { namespace: ctx.namespace(), name, subresource: 'log' }),
    query,
  });
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
}
