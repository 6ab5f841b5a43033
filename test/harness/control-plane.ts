// Starts a real control plane for integration tests: certificates from pkg/pki, the
// apiserver as a separate Node process on a free loopback port, with its own data folder.
// Readiness is the process's "listening" line, never a sleep.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureClusterPki, ensureNodeCredentials, type ClusterPkiPaths } from '../../pkg/pki/index.js';
import { startEtcd, startEtcdCluster, type EtcdCluster, type EtcdProcess } from './etcd.js';
import { runRoot } from './run-root.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/ root (this file compiles to dist/test/harness/). */
export const DIST = resolve(here, '..', '..');
export const REPO = resolve(DIST, '..');

/**
 * Ports the kernel never hands out as the local port of an outgoing connection: a port taken
 * from the ephemeral range and closed again can be reused by any connect() before the child
 * process binds it (CI saw EADDRINUSE that way), one below the range can only collide with
 * another listener, and the trial bind below catches a listener that is already there.
 */
function listenPortRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // not Linux: keep the usual default
  }
  const high = Math.max(2048, Math.min(ephemeralLow, 65536) - 1);
  return { low: Math.max(1024, high - 12_000), high };
}

function tryListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => res(true)));
  });
}

export async function freePort(): Promise<number> {
  const { low, high } = listenPortRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free loopback port in ${low}-${high} after 200 tries`);
}

/** Waits (bounded) for a line matching `pattern` on the child's stdout. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    let buffer = '';
    let errors = '';
    const timer = setTimeout(
      () => done(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; stderr: ${errors.slice(-2000)}`)),
      timeoutMs,
    );
    const onOut = (chunk: Buffer): void => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) done(undefined, line);
    };
    const onErr = (chunk: Buffer): void => {
      errors += chunk.toString();
    };
    const onExit = (code: number | null): void =>
      done(new Error(`process exited (${code ?? 'signal'}) before ${pattern}; stderr: ${errors.slice(-2000)}`));
    function done(err: Error | undefined, line?: string): void {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (err) rej(err);
      else res(line ?? '');
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

/** A further apiserver of a control plane on etcd (ControlPlane.addApiserver). */
export interface ExtraApiserver {
  port: number;
  server: string;
  child: ChildProcess;
  /** kill -9 this apiserver. */
  crash(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

export interface ControlPlane {
  dir: string;
  port: number;
  server: string;
  pki: ClusterPkiPaths;
  apiserver: ChildProcess;
  controllerManager: ChildProcess | undefined;
  scheduler: ChildProcess | undefined;
  /** The secure ports (/metrics, /healthz) of the scheduler and controller-manager started with it. */
  schedulerPort: number;
  controllerManagerPort: number;
  /** The etcd the apiserver stores in (option `etcd`). */
  etcd: EtcdProcess | undefined;
  /** The etcd cluster the apiservers store in (option `etcdMembers`). */
  etcdCluster: EtcdCluster | undefined;
  /** kill -9 the apiserver. */
  crash(): Promise<void>;
  /** Starts the apiserver again on the same port and data folder. */
  restart(): Promise<void>;
  /**
   * Starts one more apiserver on the same etcd (option `etcd` only), on its own port, with
   * the same flags otherwise (plus `extraArgs`); stop() stops it too.
   */
  addApiserver(extraArgs?: string[]): Promise<ExtraApiserver>;
  stop(): Promise<void>;
}

/** Resolves once the child process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res();
    else child.once('exit', () => res());
  });
}

/**
 * SIGTERM, then SIGKILL if it has not exited within `graceMs`: a graceful stop can hang (an
 * apiserver waits for connections to a host whose link was cut), a test's cleanup must not.
 */
export async function stopBounded(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** The controller-manager signs node certificates with the cluster CA. */
function signingArgs(pki: ClusterPkiPaths): string[] {
  return ['--cluster-signing-cert-file', pki.caCert, '--cluster-signing-key-file', pki.caKey];
}

export interface ControlPlaneOptions {
  extraArgs?: string[];
  /** Options for node itself before the apiserver's script (e.g. a test's --import preload). */
  apiserverNodeArgs?: string[];
  withControllers?: boolean;
  withScheduler?: boolean;
  controllerManagerArgs?: string[];
  host?: string;
  /**
   * Issue and accept ServiceAccount tokens (the cluster PKI's service-account key). Default: with
   * the controllers, whose ServiceAccount controller makes the `default` accounts that pods'
   * mounted tokens are requested for (without it such pods could never start).
   */
  serviceAccountTokens?: boolean;
  /**
   * Store in a real etcd instead of SQLite: true starts one here (TLS from the cluster PKI);
   * an EtcdProcess is used as it is (with its own PKI) and left running by stop().
   */
  etcd?: boolean | EtcdProcess;
  /** Store in a real etcd cluster of this many members (startEtcdCluster, the cluster PKI) instead. */
  etcdMembers?: number;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  // Under this run's root: a run killed before stop() is swept by the next (run-root.ts).
  const dir = mkdtempSync(join(runRoot(), 'plane-'));
  const port = await freePort();
  // 127.0.0.1, or the address simulated hosts reach this machine at (198.18.0.1).
  const host = opts.host ?? '127.0.0.1';
  const server = `https://${host}:${port}`;
  const pki = await ensureClusterPki(join(dir, 'certs'), { server });
  const ownEtcd = opts.etcd === true ? await startEtcd({ pkiDir: pki.dir }) : undefined;
  const etcd = typeof opts.etcd === 'object' ? opts.etcd : ownEtcd;
  const etcdCluster =
    opts.etcdMembers === undefined ? undefined : await startEtcdCluster(opts.etcdMembers, { pkiDir: pki.dir });
  const etcdUrls = etcdCluster?.clientUrls ?? (etcd === undefined ? [] : [etcd.clientUrl]);
  const etcdPki = etcdCluster?.pki ?? etcd?.pki ?? pki.etcd;
  const storeArgs =
    etcdUrls.length === 0
      ? ['--data-dir', join(dir, 'data')]
      : [
          `--etcd-servers=${etcdUrls.join(',')}`,
          `--etcd-cafile=${etcdPki.caCert}`,
          `--etcd-certfile=${etcdPki.apiserverClientCert}`,
          `--etcd-keyfile=${etcdPki.apiserverClientKey}`,
        ];
  const argsFor = (apiPort: number, more: string[] = []): string[] => [
    ...(opts.apiserverNodeArgs ?? []),
    join(DIST, 'cmd', 'apiserver.js'),
    ...storeArgs,
    '--secure-port',
    String(apiPort),
    '--bind-address',
    host,
    '--advertise-address',
    host,
    '--tls-cert-file',
    pki.apiserverCert,
    '--tls-private-key-file',
    pki.apiserverKey,
    '--client-ca-file',
    pki.caCert,
    '--kubelet-client-certificate',
    pki.kubeletClientCert,
    '--kubelet-client-key',
    pki.kubeletClientKey,
    ...((opts.serviceAccountTokens ?? opts.withControllers === true)
      ? [
          '--service-account-signing-key-file',
          pki.serviceAccountKey,
          '--service-account-key-file',
          pki.serviceAccountPub,
        ]
      : []),
    ...(opts.extraArgs ?? []),
    ...more,
  ];
  const launchOn = async (apiPort: number, more: string[] = []): Promise<ChildProcess> => {
    const child = spawn(process.execPath, argsFor(apiPort, more), { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLine(child, /listening/, 30_000);
    return child;
  };
  const launch = (): Promise<ChildProcess> => launchOn(port);
  const extra: ExtraApiserver[] = [];
  const apiserver = await launch();
  let controllerManager: ChildProcess | undefined;
  // Free ports, never 10257/10259: many control planes run side by side in the tests.
  const controllerManagerPort = await freePort();
  const schedulerPort = await freePort();
  if (opts.withControllers) {
    controllerManager = spawn(
      process.execPath,
      [
        join(DIST, 'cmd', 'controller-manager.js'),
        '--kubeconfig',
        pki.controllerManagerKubeconfig,
        ...signingArgs(pki),
        '--secure-port',
        String(controllerManagerPort),
        ...(opts.controllerManagerArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await waitForLine(controllerManager, /controllers started/, 30_000);
  }
  let scheduler: ChildProcess | undefined;
  if (opts.withScheduler) {
    const args = ['--kubeconfig', pki.schedulerKubeconfig, '--secure-port', String(schedulerPort)];
    scheduler = spawn(process.execPath, [join(DIST, 'cmd', 'scheduler.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForLine(scheduler, /scheduler started/, 30_000);
  }
  const plane: ControlPlane = {
    dir,
    port,
    server,
    pki,
    apiserver,
    controllerManager,
    scheduler,
    schedulerPort,
    controllerManagerPort,
    etcd,
    etcdCluster,
    async crash() {
      plane.apiserver.kill('SIGKILL');
      await exited(plane.apiserver);
    },
    async restart() {
      plane.apiserver = await launch();
    },
    async addApiserver(extraArgs: string[] = []) {
      if (etcdUrls.length === 0) throw new Error('addApiserver needs a control plane on etcd');
      const extraPort = await freePort();
      const added: ExtraApiserver = {
        port: extraPort,
        server: `https://${host}:${extraPort}`,
        child: await launchOn(extraPort, extraArgs),
        async crash() {
          added.child.kill('SIGKILL');
          await exited(added.child);
        },
        async restart() {
          added.child = await launchOn(extraPort, extraArgs);
        },
      };
      extra.push(added);
      return added;
    },
    async stop() {
      for (const p of [plane.controllerManager, plane.scheduler, ...extra.map((e) => e.child), plane.apiserver])
        await stopBounded(p);
      await ownEtcd?.stop();
      await etcdCluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return plane;
}

/** Runs a command to completion (bounded), capturing its output. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(
        new Error(`${cmd} ${args.join(' ')} timed out; stdout: ${stdout.slice(-1000)} stderr: ${stderr.slice(-1000)}`),
      );
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
    // A command that exits without reading its input is judged by its exit code, not EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** coxctl as a user runs it (a separate process), against the given kubeconfig. */
export function coxctl(
  kubeconfig: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [join(DIST, 'cmd', 'coxctl.js'), '--kubeconfig', kubeconfig, ...args], opts);
}

/** The real kubectl with a fresh HOME (its /version and discovery caches live there). */
export function kubectl(
  kubeconfig: string,
  args: string[],
  opts: { home: string; input?: string; timeoutMs?: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    input: opts.input,
    timeoutMs: opts.timeoutMs,
    env: { ...process.env, HOME: opts.home, KUBECONFIG: kubeconfig },
  });
}

export interface NodeAgent {
  name: string;
  process: ChildProcess;
  rootDir: string;
  /** kill -9 the agent. */
  crash(): Promise<void>;
  /** Starts the agent again with the same identity and state folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

/** The agent's flags to join the cluster at `server` with a bootstrap token, as on a new machine. */
export function joinFlags(server: string, join: { token: string; caHash: string }): string[] {
  return ['--server', server, '--token', join.token, '--discovery-token-ca-cert-hash', join.caHash];
}

/** The agent's flags for credentials of node `name` made offline from the plane's CA. */
export async function offlineCredentialArgs(plane: ControlPlane, name: string): Promise<string[]> {
  const creds = await ensureNodeCredentials(plane.pki.dir, name, { server: plane.server, addresses: ['127.0.0.1'] });
  return [
    '--kubeconfig',
    creds.kubeconfig,
    '--tls-cert-file',
    creds.servingCert,
    '--tls-private-key-file',
    creds.servingKey,
    '--client-ca-file',
    creds.caCert,
  ];
}

/**
 * Runs a node agent with offline credentials that is expected to refuse to start: resolves
 * with its exit code and stderr once it has exited (bounded by `timeoutMs`).
 */
export async function runRefusedAgent(
  plane: ControlPlane,
  agent: { name: string; rootDir: string; extraArgs: string[]; timeoutMs: number },
): Promise<{ code: number; stderr: string }> {
  const args = [
    join(DIST, 'cmd', 'kubelet.js'),
    ...(await offlineCredentialArgs(plane, agent.name)),
    '--node-name',
    agent.name,
    '--node-ip',
    '127.0.0.1',
    '--root-dir',
    agent.rootDir,
    ...agent.extraArgs,
  ];
  const res = await run(process.execPath, args, { timeoutMs: agent.timeoutMs });
  return { code: res.code, stderr: res.stderr };
}

/**
 * Starts a real node agent process for this control plane, on the local dockerd: with
 * credentials made offline from the CA, or (join) with a bootstrap token and the CA hash.
 */
export interface NodeAgentOptions {
  name?: string;
  extraArgs?: string[];
  join?: { token: string; caHash: string };
}

export async function startNodeAgent(plane: ControlPlane, opts: NodeAgentOptions = {}): Promise<NodeAgent> {
  const name = opts.name ?? `node-${Math.random().toString(36).slice(2, 8)}`;
  const rootDir = join(plane.dir, 'kubelet', name);
  const port = await freePort();
  const credentials =
    opts.join !== undefined ? joinFlags(plane.server, opts.join) : await offlineCredentialArgs(plane, name);
  const args = [
    join(DIST, 'cmd', 'kubelet.js'),
    ...credentials,
    '--node-name',
    name,
    '--node-ip',
    '127.0.0.1',
    // Agents of one test share the machine's dockerd and network: no pod network of their own.
    ...(opts.extraArgs?.includes('--network') ? [] : ['--network', 'none']),
    '--port',
    String(port),
    '--root-dir',
    rootDir,
    ...(opts.extraArgs ?? []),
  ];
  let out = '';
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20000)));
    child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20000)));
    await waitForLine(child, /kubelet ready/, 60_000);
    return child;
  };
  const agent: NodeAgent = {
    name,
    rootDir,
    process: await launch(),
    async crash() {
      agent.process.kill('SIGKILL');
      await exited(agent.process);
    },
    async restart() {
      agent.process = await launch();
    },
    async stop() {
      await stopBounded(agent.process, 30_000);
    },
    output: () => out,
  };
  return agent;
}

/** Removes every container a test node created (by its node label), whatever happened. */
export async function removeNodeContainers(nodeName: string): Promise<void> {
  const list = await run('docker', ['ps', '-aq', '--filter', `label=io.coxswain.node=${nodeName}`]);
  const ids = list.stdout.split('\n').filter((l) => l.trim() !== '');
  if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
}

/** Starts one more scheduler or controller-manager process; resolves when it printed `ready`. */
export async function startComponent(
  plane: ControlPlane,
  which: 'scheduler' | 'controller-manager',
  opts: { args: string[]; ready: RegExp },
): Promise<ChildProcess> {
  const { args, ready } = opts;
  const kubeconfig = which === 'scheduler' ? plane.pki.schedulerKubeconfig : plane.pki.controllerManagerKubeconfig;
  const extra = which === 'controller-manager' ? signingArgs(plane.pki) : [];
  if (!args.includes('--secure-port')) extra.push('--secure-port', String(await freePort()));
  const child = spawn(
    process.execPath,
    [join(DIST, 'cmd', `${which}.js`), '--kubeconfig', kubeconfig, ...extra, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForLine(child, ready, 30_000);
  return child;
}

export async function killHard(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await exited(child);
}
