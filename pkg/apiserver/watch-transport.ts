// Watch transports. One watch source (RestStore.watch over the watch cache) feeds two
// wire forms: chunked HTTP with newline-delimited JSON events (kubectl, client libraries)
// and websockets with one JSON event per text message (Coxswain's own components); a chunked
// watch whose client accepts only protobuf gets length-prefixed protobuf frames instead.
// Headers are flushed at once; bookmarks are sent when asked. Each watcher's send buffer
// is bounded: a consumer that lets more than maxBufferedBytes pile up (it stopped reading,
// or reads slower than events come) is sent an ERROR event (410 Expired: it missed events,
// so it must re-list) and cut off; if even that cannot drain, its socket is destroyed a
// moment later, so its buffer is freed whatever the client does.

import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { KubeObject } from '../api/meta.js';
import { apiVersionOf, type ResourceInfo } from '../api/registry.js';
import { ApiError, toApiError } from '../errors/index.js';
import { MAX_TIMER_MS } from './request-options.js';
import type { WatchHandle } from '../storage/store.js';
import type { RestStore } from './rest-store.js';
import type { WatchRequest } from './rest-types.js';

export interface WatchParams extends WatchRequest {
  namespace: string | undefined;
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
  /** Renders each event's object (e.g. as a one-row Table). */
  render: (obj: KubeObject) => unknown;
  /** Another wire form than newline-delimited JSON (protobuf): its content type and event frames. */
  wire?: { contentType: string; frame: (type: string, object: unknown) => Buffer } | undefined;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
  /** Buffered bytes beyond which a consumer is considered stuck and disconnected. */
  maxBufferedBytes: number;
  /** Upper bound for watches without timeoutSeconds (Kubernetes picks 30–60 min). */
  maxTimeoutMs: number;
}

/** What a watch reads from: the REST layer, the resource, and the server's watch settings. */
export interface WatchSource {
  store: RestStore;
  r: ResourceInfo;
  settings: WatchSettings;
}

/** A sink abstracts the two transports. */
interface Sink {
  /** The transport's name: events are encoded once per transport, wire form and type. */
  transport: string;
  /** A JSON event as this transport frames it, in bytes (made once, written to every watcher). */
  text(json: string): Buffer;
  send(data: Buffer): void;
  buffered(): number;
  /** Ends the stream politely (what was sent may still be read). */
  close(): void;
  /** Drops the connection and whatever is still buffered for it. */
  destroy(): void;
  onClose(fn: () => void): void;
}

/** How long a cut-off watcher gets to read its final ERROR event before its socket goes. */
const OVERFLOW_GRACE_MS = 5000;

function overflowed(limit: number): ApiError {
  return new ApiError(
    'Expired',
    `the watch was closed: its client did not read ${limit} bytes of events in time; re-list and watch again`,
  );
}

/**
 * The encodings of the event being fanned out, by wire form and event type. The watch cache
 * hands the same read-only object to every watcher of an event, synchronously, one event at a
 * time: so one slot is enough for 500 watchers to cost one serialisation, not 500, and nothing
 * outlives the fan-out.
 */
const lastEvent: { object: object | undefined; forms: Map<string, Buffer> } = {
  object: undefined,
  forms: new Map(),
};

function sharedEncoding(object: object, form: string, encode: () => Buffer): Buffer {
  if (lastEvent.object !== object) {
    lastEvent.object = object;
    lastEvent.forms = new Map();
  }
  let encoded = lastEvent.forms.get(form);
  if (encoded === undefined) {
    encoded = encode();
    lastEvent.forms.set(form, encoded);
  }
  return encoded;
}

async function runWatch(source: WatchSource, p: WatchParams, sink: Sink): Promise<void> {
  const { store, r, settings } = source;
  let handle: WatchHandle | undefined;
  let closed = false;
  let lastRv = p.resourceVersion ?? '0';
  const timers: NodeJS.Timeout[] = [];
  let gone = false;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    handle?.stop();
    for (const t of timers) clearTimeout(t);
    sink.close();
  };
  sink.onClose(() => {
    gone = true;
    finish();
  });
  // The initial state (a watch from resourceVersion 0 replays every object) is written in
  // one go, before the client could read any of it: it adds to the allowance instead of
  // counting as a stuck client.
  let replaying = true;
  let replayBytes = 0;
  const encode = (type: string, object: unknown): Buffer =>
    p.wire === undefined ? sink.text(JSON.stringify({ type, object })) : p.wire.frame(type, object);
  const emit = (type: string, object: unknown): void => emitLine(encode(type, object));
  const form = `${sink.transport} ${p.wire?.contentType ?? 'json'}`;
  const emitLine = (line: Buffer): void => {
    if (closed) return;
    sink.send(line);
    if (replaying) {
      replayBytes += line.length;
      return;
    }
    if (sink.buffered() <= settings.maxBufferedBytes + replayBytes) return;
    sink.send(encode('ERROR', overflowed(settings.maxBufferedBytes).toStatus()));
    finish();
    const cut = setTimeout(() => {
      if (!gone) sink.destroy();
    }, OVERFLOW_GRACE_MS);
    cut.unref();
  };
  try {
    handle = await store.watch(r, p.namespace, {
      ...p,
      listener: (ev) => {
        lastRv = ev.object.metadata.resourceVersion ?? lastRv;
        if (closed) return;
        const rendered = p.render(ev.object);
        // Every watcher that sends the object as it is shares one encoding of the event.
        if (rendered !== ev.object) emit(ev.type, rendered);
        else emitLine(sharedEncoding(ev.object, `${form} ${ev.type}`, () => encode(ev.type, rendered)));
      },
      onError: (err: ApiError) => {
        emit('ERROR', err.toStatus());
        finish();
      },
    });
  } catch (err) {
    emit('ERROR', toApiError(err).toStatus());
    finish();
    return;
  }
  replaying = false;
  if (closed) {
    handle.stop();
    return;
  }
  // Node fires a timer longer than 2^31-1 ms at once: a huge timeoutSeconds means "the longest we can".
  const timeoutMs = Math.min(
    p.timeoutSeconds !== undefined && p.timeoutSeconds > 0 ? p.timeoutSeconds * 1000 : settings.maxTimeoutMs,
    MAX_TIMER_MS,
  );
  timers.push(setTimeout(finish, timeoutMs));
  if (p.allowWatchBookmarks) {
    const tick = (): void => {
      emit('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: lastRv } });
      timers.push(setTimeout(tick, settings.bookmarkIntervalMs));
    };
    timers.push(setTimeout(tick, settings.bookmarkIntervalMs));
  }
}

/** Chunked HTTP: `{"type":…,"object":…}\n` per event, or the frames of `p.wire`. */
export function serveHttpWatch(source: WatchSource, p: WatchParams, res: ServerResponse): Promise<void> {
  res.writeHead(200, {
    'Content-Type': p.wire?.contentType ?? 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  const sink: Sink = {
    transport: 'http',
    text: (json) => Buffer.from(json + '\n'),
    send: (data) => {
      res.write(data);
    },
    buffered: () => res.writableLength,
    close: () => {
      if (!res.writableEnded) res.end();
    },
    destroy: () => res.destroy(),
    // On Node 20 `req.on('close')` fires once the body is read; the response's close is the disconnect.
    onClose: (fn) => res.on('close', fn),
  };
  return runWatch(source, p, sink);
}

/** Websocket: one JSON event per text message. */
export function serveWebSocketWatch(source: WatchSource, p: WatchParams, ws: WebSocket): Promise<void> {
  const sink: Sink = {
    transport: 'websocket',
    text: (json) => Buffer.from(json),
    // A text frame; ws writes the shared bytes as they are (a server does not mask).
    send: (data) => ws.send(data, { binary: false }),
    buffered: () => ws.bufferedAmount,
    close: () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
    },
    destroy: () => ws.terminate(),
    onClose: (fn) => ws.on('close', fn),
  };
  return runWatch(source, p, sink);
}
