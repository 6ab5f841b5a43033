// Readiness (Kubernetes' /readyz): an apiserver whose store cannot be reached still runs and
// listens; /livez answers 200, /readyz 503 with the failing check (`[-]etcd failed: <reason>`
// … `readyz check failed`), and, until the first successful start, every other request gets
// a 503 ServiceUnavailable Status. Once started, the store is probed in the background, so
// /readyz reports etcd going away again.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, errorMessage } from '../errors/index.js';

/** How often the store is probed once the apiserver is up. */
const PROBE_INTERVAL_MS = 2000;

export class Readiness {
  /** Why the store check fails; undefined when it passes. */
  private failure: string | undefined = 'not yet connected';
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  /** The store check failed (or passed, with undefined). */
  report(failure: string | undefined): void {
    this.failure = failure === undefined ? undefined : failure.replace(/\s*\n\s*/g, ' ');
  }

  /** The start completed: requests are served from now on; `probe` keeps the check current. */
  markStarted(probe: (() => Promise<void>) | undefined): void {
    this.started = true;
    this.failure = undefined;
    if (probe === undefined) return;
    const tick = (): void => {
      probe().then(
        () => this.report(undefined),
        (err: unknown) => this.report(errorMessage(err)),
      );
    };
    this.timer = setInterval(tick, PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** The /readyz answer: status code and body, in Kubernetes' verbose format when failing. */
  readyz(): { code: number; body: string } {
    if (this.started && this.failure === undefined) return { code: 200, body: 'ok' };
    const lines = ['[+]ping ok', '[+]log ok'];
    lines.push(this.failure === undefined ? '[+]etcd ok' : `[-]etcd failed: ${this.failure}`);
    lines.push(
      this.started ? '[+]poststarthook/start-apiserver ok' : '[-]poststarthook/start-apiserver failed: not finished',
    );
    return { code: 503, body: `${lines.join('\n')}\nreadyz check failed\n` };
  }

  /** The Status every API request gets before the start completed. */
  notReady(): ApiError {
    return new ApiError('ServiceUnavailable', `the apiserver is not ready: etcd: ${this.failure ?? 'starting'}`, {
      details: { retryAfterSeconds: 1 },
    });
  }

  /** Serves requests before the start completed: health endpoints, else 503. */
  serveNotReady(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/livez' || path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    }
    if (path === '/readyz') {
      const { code, body } = this.readyz();
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
      return;
    }
    const err = this.notReady();
    const body = JSON.stringify(err.toStatus());
    res.writeHead(err.code, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(body);
  }

  /** Refuses an upgrade (watch, exec) before the start completed. */
  refuseUpgrade(socket: Duplex): void {
    const err = this.notReady();
    const body = JSON.stringify(err.toStatus());
    socket.end(
      `HTTP/1.1 ${err.code} Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`,
    );
  }
}
