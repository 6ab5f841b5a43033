// Watching over websockets, and the reflector built on it (client-go's reflector): list,
// then watch from the list's resourceVersion; on a dropped stream resume from the last
// resourceVersion seen (bookmarks included), with bounded back-off; on 410 Expired re-list.

import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { KubeObject, WatchEvent } from '../api/meta.js';
import { resourcePath, type Resource } from '../api/registry.js';
import { createLogger, type Logger } from '../component/index.js';
import { ApiError, errorMessage, isGone } from '../errors/index.js';
import { toError, type RestClient } from './rest-client.js';

/** What to watch: a resource, where, and from which resourceVersion. */
export interface WatchStreamOptions<T extends KubeObject = KubeObject> {
  resource: Resource<T>;
  namespace?: string | undefined;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface WatchStreamHandlers<T extends KubeObject = KubeObject> {
  onEvent: (ev: WatchEvent<T>) => void;
  /** Called once, when the stream ends (err undefined for a normal close). */
  onClose: (err?: Error) => void;
  /** Called when the server accepted the watch. */
  onOpen?: () => void;
}

export interface WatchStreamHandle {
  stop(): void;
}

/** How often an open watch checks that its apiserver still answers (a lost machine sends no FIN). */
const WATCH_PING_MS = 15_000;

/** The path and query of a watch (websocket). */
function watchTarget(opts: WatchStreamOptions<KubeObject>): Parameters<RestClient['urlOn']>[1] {
  return {
    path: resourcePath(opts.resource, { namespace: opts.namespace }),
    query: {
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: opts.timeoutSeconds,
    },
    scheme: 'wss',
  };
}

/** Hands the error of a refused watch (from its Status body) to `done`. */
function readRefusal(res: IncomingMessage, done: (err: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(toError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
  res.on('error', done);
}

/** Pings the apiserver every WATCH_PING_MS; a stream whose last ping went unanswered is cut. */
function heartbeat(ws: WebSocket): NodeJS.Timeout {
  let answered = true;
  ws.on('pong', () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) ws.terminate();
    answered = false;
    ws.ping();
  }, WATCH_PING_MS);
  timer.unref();
  return timer;
}

/**
 * Opens a watch on the client's current apiserver; when that one cannot be reached (or
 * answers 503) the next one is tried, once each: a watch is a read, safe to send anywhere.
 * A stream that was open and breaks is reported to onClose: the caller resumes it (from
 * its last resourceVersion, on whichever apiserver is current then).
 */
export function watchStream<T extends KubeObject>(
  client: RestClient,
  opts: WatchStreamOptions<T>,
  handlers: WatchStreamHandlers<T>,
): WatchStreamHandle {
  const target = watchTarget(opts);
  const candidates = client.apiservers.candidates();
  let closed = false;
  let current: WebSocket | undefined;
  let pinger: NodeJS.Timeout | undefined;
  const finish = (err?: Error): void => {
    if (closed) return;
    closed = true;
    clearInterval(pinger);
    handlers.onClose(err);
  };
  const open = (index: number): void => {
    const server = candidates[index] ?? client.apiservers.current;
    const more = index + 1 < candidates.length;
    const ws = new WebSocket(client.urlOn(server, target), {
      ...client.tlsOptions(),
      headers: client.authHeaders(),
      perMessageDeflate: false,
      handshakeTimeout: more ? 10_000 : 30_000,
    });
    current = ws;
    let opened = false;
    // Events of a socket given up for the next apiserver are ignored.
    const live = (): boolean => !closed && current === ws;
    const next = (): boolean => {
      if (opened || !more || closed) return false;
      client.apiservers.failed(server);
      current = undefined;
      ws.terminate();
      setTimeout(() => open(index + 1), 50);
      return true;
    };
    ws.on('open', () => {
      if (!live()) return;
      opened = true;
      client.apiservers.succeeded(server);
      pinger = heartbeat(ws);
      handlers.onOpen?.();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (!live()) return;
      let ev: WatchEvent<T>;
      try {
        // The typed boundary: the apiserver sends objects of the watched resource (or a Status
        // for ERROR), checked against that resource's schema before they were stored.
        ev = JSON.parse(data.toString()) as WatchEvent<T>;
      } catch {
        ws.terminate();
        finish(new ApiError('InternalError', 'malformed watch event'));
        return;
      }
      handlers.onEvent(ev);
    });
    ws.on('unexpected-response', (_req, res) => {
      if (!live()) return;
      if (res.statusCode === 503 && next()) return;
      readRefusal(res, finish);
    });
    ws.on('error', (err) => {
      if (!live() || next()) return;
      finish(new ApiError('ServiceUnavailable', `watch ${opts.resource.plural} on ${server}: ${err.message}`));
    });
    ws.on('close', () => {
      if (live()) finish();
    });
  };
  open(0);
  return {
    stop: () => {
      if (closed) return;
      closed = true;
      clearInterval(pinger);
      current?.terminate();
    },
  };
}

export interface ReflectorHandlers<T extends KubeObject = KubeObject> {
  onList: (items: T[], resourceVersion: string) => void;
  onEvent: (ev: WatchEvent<T>) => void;
  /** Where a failed list is reported before the back-off (default: warn lines on stderr). */
  log?: Logger;
}

/** What a reflector lists and watches: a resource, optionally narrowed. */
export interface ReflectorTarget<T extends KubeObject = KubeObject> {
  resource: Resource<T>;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class Reflector<T extends KubeObject = KubeObject> {
  private readonly client: RestClient;
  private readonly resource: Resource<T>;
  private readonly selectors: Omit<ReflectorTarget<T>, 'resource'>;
  private readonly handlers: ReflectorHandlers<T>;
  private readonly log: Logger;
  private lastRv = '';

  constructor(client: RestClient, target: ReflectorTarget<T>, handlers: ReflectorHandlers<T>) {
    const { resource, ...selectors } = target;
    this.client = client;
    this.resource = resource;
    this.selectors = selectors;
    this.handlers = handlers;
    this.log = handlers.log ?? createLogger({ write: (line) => void process.stderr.write(line) });
  }

  lastSyncResourceVersion(): string {
    return this.lastRv;
  }

  start(signal: AbortSignal): void {
    void this.run(signal);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    const jittered = (): number => backoff * (0.8 + Math.random() * 0.4);
    while (!signal.aborted) {
      try {
        const list = await this.client.list(this.resource, {
          ...(this.selectors.namespace !== undefined ? { namespace: this.selectors.namespace } : {}),
          ...(this.selectors.labelSelector !== undefined ? { labelSelector: this.selectors.labelSelector } : {}),
          ...(this.selectors.fieldSelector !== undefined ? { fieldSelector: this.selectors.fieldSelector } : {}),
        });
        this.lastRv = list.metadata.resourceVersion ?? '0';
        const kind = this.resource.kind;
        this.handlers.onList(
          list.items.map((o) => (o.kind ? o : { ...o, kind, apiVersion: list.apiVersion })),
          this.lastRv,
        );
        backoff = MIN_BACKOFF_MS;
      } catch (err) {
        if (signal.aborted) break;
        const delay = jittered();
        this.log.warn('list failed; backing off', {
          resource: this.resource.plural,
          namespace: this.selectors.namespace,
          err: errorMessage(err),
          retryMs: Math.round(delay),
        });
        await sleep(delay, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      // Watch until the history we need is gone (410), then re-list.
      while (!signal.aborted) {
        const outcome = await this.watchOnce(signal);
        if (outcome === 'expired') break;
        if (outcome === 'failed') {
          await sleep(jittered(), signal);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        } else backoff = MIN_BACKOFF_MS;
      }
    }
  }

  /** One watch stream; resolves how it ended. */
  private watchOnce(signal: AbortSignal): Promise<'closed' | 'expired' | 'failed'> {
    return new Promise((resolve) => {
      let outcome: 'closed' | 'expired' | 'failed' = 'closed';
      let received = false;
      const stream = watchStream(
        this.client,
        {
          ...this.selectors,
          resource: this.resource,
          resourceVersion: this.lastRv,
          allowWatchBookmarks: true,
          timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        },
        {
          onEvent: (ev) => {
            received = true;
            if (ev.type === 'ERROR') {
              // An ERROR event carries a Status, not an object of the resource.
              const code = ev.object['code'];
              const reason = ev.object['reason'];
              outcome = code === 410 || reason === 'Expired' || reason === 'Gone' ? 'expired' : 'failed';
              stream.stop();
              finish();
              return;
            }
            const rv = ev.object.metadata?.resourceVersion;
            if (rv !== undefined && rv !== '') this.lastRv = rv;
            if (ev.type !== 'BOOKMARK') this.handlers.onEvent(ev);
          },
          onClose: (err) => {
            if (err !== undefined) outcome = isGone(err) ? 'expired' : received ? 'closed' : 'failed';
            finish();
          },
        },
      );
      const onAbort = (): void => {
        stream.stop();
        finish();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let done = false;
      function finish(): void {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      }
    });
  }
}
