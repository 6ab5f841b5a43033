// How the node agent reads a container's log for pods/log: the checked PodLogOptions as the
// runtime takes them (sinceTime or sinceSeconds as a start time), and limitBytes as a cut
// of the byte stream (the runtime knows lines, not bytes).

import { Transform, type Readable } from 'node:stream';
import type { PodLogOptions } from '../api/pod-log-options.js';
import type { LogOptions } from './runtime/index.js';

/** The runtime's options for these PodLogOptions (follow is off for a previous container). */
export function runtimeLogOptions(opts: PodLogOptions, now: Date): LogOptions {
  const out: LogOptions = { follow: opts.follow && !opts.previous, timestamps: opts.timestamps };
  if (opts.tailLines !== undefined) out.tailLines = opts.tailLines;
  if (opts.sinceTime !== undefined) out.since = new Date(opts.sinceTime);
  else if (opts.sinceSeconds !== undefined) out.since = new Date(now.getTime() - opts.sinceSeconds * 1000);
  return out;
}

/** The stream cut after `limit` bytes (the rest of the source is not read); the source itself without a limit. */
export function limitBytes(source: Readable, limit: number | undefined): Readable {
  if (limit === undefined) return source;
  let left = limit;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (left > 0) {
        const part = chunk.length <= left ? chunk : chunk.subarray(0, left);
        left -= part.length;
        this.push(part);
        if (left === 0) {
          this.push(null);
          source.unpipe(cut);
          source.destroy();
        }
      }
      done();
    },
  });
  cut.on('close', () => source.destroy());
  source.on('error', (err) => cut.destroy(err));
  return source.pipe(cut);
}
