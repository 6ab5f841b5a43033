// Liveness, readiness and startup probes (exec, httpGet, tcpSocket) with Kubernetes'
// timing: initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold,
// failureThreshold. One worker per (pod, container, probe kind), bound to a container id;
// results flip only when a threshold is crossed, and flips are reported.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, IntOrString, Probe } from '../api/types/index.js';
import type { ContainerRuntime } from './runtime/index.js';
import { errorMessage } from '../errors/index.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTarget {
  podUid: string;
  containerName: string;
  containerId: string;
  podIP: string | undefined;
  /** The container's spec (for named ports). */
  container: Container;
  probe: Probe;
  kind: ProbeKind;
  /** When the container started (ms); the initial delay counts from here. */
  startedAt: number;
}

export interface ProbeEvents {
  /** A result flipped (readiness changed, liveness failed, startup succeeded). */
  onChange: (podUid: string) => void;
  /** A single failed probe, for the Unhealthy event. */
  onFailure: (target: ProbeTarget, message: string) => void;
}

function resolvePort(port: IntOrString, container: Container): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (named !== undefined) return named.containerPort;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  throw new Error(`no port named "${port}"`);
}

/** Runs one probe; resolves undefined on success or a failure message. */
export async function runProbe(runtime: ContainerRuntime, t: ProbeTarget): Promise<string | undefined> {
  const p = t.probe;
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  try {
    if (p.exec) {
      const cmd = [...(p.exec.command ?? [])];
      const session = await runtime.exec(t.containerId, { cmd, tty: false, stdin: false });
      let output = '';
      session.stdout.on('data', (c: Buffer) => (output += c.toString()));
      session.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const code = await withTimeout(session.exitCode, timeoutMs, `command timed out after ${timeoutMs / 1000}s`);
      return code === 0 ? undefined : `exec probe failed with exit code ${code}: ${output.trim().slice(0, 200)}`;
    }
    if (p.httpGet) {
      const g = p.httpGet;
      const host = g.host || t.podIP;
      if (host === undefined) return 'the pod has no IP yet';
      const port = resolvePort(g.port, t.container);
      const scheme = g.scheme === 'HTTPS' ? 'https' : 'http';
      const path = g.path ?? '/';
      const status = await httpStatus(`${scheme}://${host}:${port}${path}`, timeoutMs);
      return status >= 200 && status < 400 ? undefined : `HTTP probe failed with statuscode: ${status}`;
    }
    if (p.tcpSocket) {
      const s = p.tcpSocket;
      const host = s.host || t.podIP;
      if (host === undefined) return 'the pod has no IP yet';
      await tcpConnect(host, resolvePort(s.port, t.container), timeoutMs);
      return undefined;
    }
    return 'probe has no handler';
  } catch (err) {
    return errorMessage(err);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function httpStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https') ? https : http;
    const req = mod.get(
      url,
      { timeout: timeoutMs, rejectUnauthorized: false, headers: { 'User-Agent': 'kube-probe/1.32' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded`)));
    req.on('error', (err) => reject(new Error(`Get "${url}": ${err.message}`)));
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
    });
    socket.once('error', (err) => reject(new Error(`dial tcp ${host}:${port}: ${err.message}`)));
  });
}

interface Worker {
  target: ProbeTarget;
  timer: NodeJS.Timeout | undefined;
  /** undefined until the first threshold is crossed. */
  result: boolean | undefined;
  successes: number;
  failures: number;
  stopped: boolean;
}

export class ProbeManager {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly events: ProbeEvents,
  ) {}

  private key(podUid: string, container: string, kind: ProbeKind): string {
    return `${podUid}/${container}/${kind}`;
  }

  /** Starts (or keeps) the worker for a probe of a running container. */
  ensure(target: ProbeTarget): void {
    const key = this.key(target.podUid, target.containerName, target.kind);
    const existing = this.workers.get(key);
    if (existing !== undefined && existing.target.containerId === target.containerId) {
      existing.target = target; // newer pod IP etc.
      return;
    }
    if (existing !== undefined) this.stopWorker(key, existing);
    const worker: Worker = { target, timer: undefined, result: undefined, successes: 0, failures: 0, stopped: false };
    this.workers.set(key, worker);
    const initial = Math.max(0, target.startedAt + (target.probe.initialDelaySeconds ?? 0) * 1000 - Date.now());
    worker.timer = setTimeout(() => void this.tick(worker), initial);
  }

  private async tick(w: Worker): Promise<void> {
    if (w.stopped) return;
    const t = w.target;
    // Liveness and readiness wait until the startup probe has succeeded.
    if (
      t.kind !== 'startup' &&
      this.workers.has(this.key(t.podUid, t.containerName, 'startup')) &&
      this.result(t.podUid, t.containerName, 'startup') !== true
    ) {
      this.schedule(w);
      return;
    }
    const failure = await runProbe(this.runtime, t);
    if (w.stopped) return;
    const before = w.result;
    if (failure === undefined) {
      w.successes++;
      w.failures = 0;
      if (w.successes >= (t.kind === 'readiness' ? (t.probe.successThreshold ?? 1) : 1)) w.result = true;
    } else {
      w.failures++;
      w.successes = 0;
      this.events.onFailure(t, failure);
      if (w.failures >= (t.probe.failureThreshold ?? 3)) w.result = false;
    }
    if (w.result !== before) this.events.onChange(t.podUid);
    // A failed liveness or startup probe ends this worker; the container is restarted.
    if (w.result === false && t.kind !== 'readiness') return;
    this.schedule(w);
  }

  private schedule(w: Worker): void {
    if (w.stopped) return;
    w.timer = setTimeout(() => void this.tick(w), (w.target.probe.periodSeconds ?? 10) * 1000);
  }

  /** The probe's verdict: true/false once decided, undefined before. */
  result(podUid: string, container: string, kind: ProbeKind): boolean | undefined {
    return this.workers.get(this.key(podUid, container, kind))?.result;
  }

  has(podUid: string, container: string, kind: ProbeKind): boolean {
    return this.workers.has(this.key(podUid, container, kind));
  }

  private stopWorker(key: string, w: Worker): void {
    w.stopped = true;
    if (w.timer) clearTimeout(w.timer);
    this.workers.delete(key);
  }

  /** Stops the probes of one container (it is being replaced) or of a whole pod. */
  stop(podUid: string, container?: string): void {
    const prefix = container === undefined ? `${podUid}/` : `${podUid}/${container}/`;
    for (const [key, w] of [...this.workers]) if (key.startsWith(prefix)) this.stopWorker(key, w);
  }

  stopAll(): void {
    for (const [key, w] of [...this.workers]) this.stopWorker(key, w);
  }
}
