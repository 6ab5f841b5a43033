// pods/attach on the node agent: the client's websocket joined to the streams of a running
// container's main process (Kubernetes' CRI Attach), in the channel protocol the apiserver
// relays. Input reaches the process only when the container keeps stdin open (`stdin: true`),
// as in Kubernetes; otherwise it is dropped and the output still streams. Detaching leaves the
// process running; a Success status ends the stream when the process's streams end.

import type { WebSocket } from 'ws';
import { isObject } from '../api/meta.js';
import { CHANNEL, frame } from '../streaming/index.js';
import { errorMessage } from '../errors/index.js';
import type { ContainerRuntime } from './runtime/index.js';

/** Go's strconv.ParseBool truths, as Kubernetes reads these query flags. */
export function queryFlag(q: URLSearchParams, key: string): boolean {
  return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(q.get(key) ?? '');
}

/** A resize frame's body, `{"Width":80,"Height":24}`; anything else is no resize. */
export function resizeOf(body: Buffer): { width: number; height: number } | undefined {
  let size: unknown;
  try {
    size = JSON.parse(body.toString());
  } catch {
    return undefined;
  }
  if (!isObject(size)) return undefined;
  const dimension = (v: unknown): number =>
    typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536 ? v : 0;
  return { width: dimension(size['Width']), height: dimension(size['Height']) };
}

/** Which container, and the query of the request (stdin, stdout, stderr, tty). */
export interface AttachTarget {
  runtime: ContainerRuntime;
  containerId: string;
  query: URLSearchParams;
}

function status(message: string | undefined): string {
  if (message === undefined) return JSON.stringify({ metadata: {}, status: 'Success' });
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  });
}

export async function serveAttach(ws: WebSocket, target: AttachTarget): Promise<void> {
  const { runtime, containerId, query } = target;
  const wantStdout = queryFlag(query, 'stdout');
  const wantStderr = queryFlag(query, 'stderr');
  // Frames can come before the attach exists (a resize at once): hold them.
  const early: Buffer[] = [];
  const input: { handle?: (buf: Buffer) => void } = {};
  ws.on('message', (data: Buffer) => {
    if (input.handle) input.handle(data);
    else if (early.length < 64) early.push(data);
  });
  let session;
  try {
    session = await runtime.attach(containerId, { stdin: queryFlag(query, 'stdin') });
  } catch (err) {
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(CHANNEL.error, status(errorMessage(err))));
      ws.close(1000);
    }
    return;
  }
  const s = session;
  const send = (channel: number, c: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(frame(channel, c));
  };
  s.stdout.on('data', (c: Buffer) => {
    if (wantStdout) send(CHANNEL.stdout, c);
  });
  s.stderr.on('data', (c: Buffer) => {
    if (wantStderr) send(CHANNEL.stderr, c);
    else if (wantStdout) send(CHANNEL.stdout, c);
  });
  const handle = (buf: Buffer): void => {
    const channel = buf[0];
    const body = buf.subarray(1);
    if (channel === CHANNEL.stdin) s.stdin?.write(body);
    else if (channel === CHANNEL.resize) {
      const size = resizeOf(body);
      if (size !== undefined) void s.resize(size.width, size.height).catch(() => undefined);
    } else if (channel === CHANNEL.close && body[0] === CHANNEL.stdin && s.stdinOnce) {
      // Only a stdinOnce container's stdin closes with the client's input; otherwise the
      // input just stops (Docker would end the whole attach, output included).
      s.stdin?.end();
    }
  };
  for (const buf of early.splice(0)) handle(buf);
  input.handle = handle;
  // The client leaving detaches; the process runs on.
  ws.on('close', () => s.close());
  await s.ended;
  await new Promise((r) => setImmediate(r));
  if (ws.readyState === ws.OPEN) {
    ws.send(frame(CHANNEL.error, status(undefined)));
    ws.close(1000);
  }
}
