// Simulated hosts for multi-host tests (DESIGN.md §8), through scripts/sim-hosts.sh: each
// host is a network namespace with its own dockerd, and its agent joins the test's control
// plane with a bootstrap token, as on a real second machine. The hosts' docker data and agent
// roots live under this run's root (run-root.ts), never reused by another run.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coxctl, DIST, exited, REPO, run, waitForLine, type ControlPlane } from './control-plane.js';
import { simRoot, sweepStaleRuns } from './run-root.js';

export const SIM_GATEWAY = '198.18.0.1';
const SCRIPT = join(REPO, 'scripts', 'sim-hosts.sh');

export class SimHost {
  agent: ChildProcess | undefined;
  private out = '';
  constructor(
    readonly n: number,
    readonly ns: string,
    readonly ip: string,
    readonly socket: string,
    readonly root: string,
    readonly agentPidFile: string,
  ) {}

  /** The agent's recent output (for failure messages). */
  output(): string {
    return this.out;
  }

  record(text: string): void {
    this.out = (this.out + text).slice(-30000);
  }
}

async function script(args: string[], opts: { root?: string; timeoutMs?: number } = {}): Promise<string> {
  const env = { ...process.env, COXSWAIN_SIM_ROOT: opts.root ?? simRoot() };
  const res = await run('bash', [SCRIPT, ...args], { env, timeoutMs: opts.timeoutMs ?? 180_000 });
  if (res.code !== 0) throw new Error(`sim-hosts.sh ${args.join(' ')} failed: ${res.stderr || res.stdout}`);
  return res.stdout;
}

/** Makes (or reclaims) host n under `root` (default: this run's) and starts its dockerd. */
export async function addSimHost(n: number, root = simRoot()): Promise<SimHost> {
  await script(['add', String(n)], { root });
  const vars = new Map<string, string>();
  for (const line of (await script(['env', String(n)], { root })).trim().split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) vars.set(line.slice(0, at), line.slice(at + 1));
  }
  return new SimHost(
    n,
    vars.get('NS') ?? '',
    vars.get('IP') ?? '',
    vars.get('SOCKET') ?? '',
    vars.get('HOST_ROOT') ?? '',
    vars.get('AGENT_PIDFILE') ?? '',
  );
}

/** A bootstrap token and CA hash from `coxctl token create`, as an operator gets them. */
export async function joinToken(plane: ControlPlane): Promise<{ token: string; caHash: string }> {
  const res = await coxctl(plane.pki.adminKubeconfig, ['token', 'create', '--ttl', '2h']);
  if (res.code !== 0) throw new Error(`token create failed: ${res.stderr}`);
  return {
    token: /--token (\S+)/.exec(res.stdout)?.[1] ?? '',
    caHash: /--discovery-token-ca-cert-hash (\S+)/.exec(res.stdout)?.[1] ?? '',
  };
}

/** Starts (or restarts) the host's agent inside its namespace; resolves when it is ready. */
export async function startHostAgent(
  plane: ControlPlane,
  host: SimHost,
  join: { token: string; caHash: string },
  extraArgs: string[] = [],
): Promise<void> {
  const args = [
    `--net=/run/netns/${host.ns}`,
    process.execPath,
    `${DIST}/cmd/kubelet.js`,
    '--server',
    plane.server,
    '--token',
    join.token,
    '--discovery-token-ca-cert-hash',
    join.caHash,
    '--node-name',
    host.ns,
    '--node-ip',
    host.ip,
    '--docker-socket',
    host.socket,
    '--root-dir',
    `${host.root}/kubelet`,
    ...extraArgs,
  ];
  const child = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // nsenter execs the agent: this PID is the agent's, and whoever reclaims the host stops it.
  if (child.pid !== undefined) writeFileSync(host.agentPidFile, `${child.pid}\n`);
  child.stdout?.on('data', (c: Buffer) => host.record(c.toString()));
  child.stderr?.on('data', (c: Buffer) => host.record(c.toString()));
  host.agent = child;
  await waitForLine(child, /kubelet ready/, 120_000);
}

export async function stopHostAgent(host: SimHost, hard = false): Promise<void> {
  const child = host.agent;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(hard ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

export async function removeSimHost(host: SimHost): Promise<void> {
  await stopHostAgent(host);
  await script(['del', String(host.n)]);
}

export async function cutHost(host: SimHost): Promise<void> {
  await script(['cut', String(host.n)]);
}

export async function restoreHost(host: SimHost): Promise<void> {
  await script(['restore', String(host.n)]);
}

/** Removes this run's hosts, and whatever runs that ended without cleaning up left. */
export async function teardownSimHosts(): Promise<void> {
  await sweepStaleRuns((msg) => process.stdout.write(`# ${msg}\n`));
  await script(['teardown']);
}

/** A command inside the host's network namespace. */
export function inHost(
  host: SimHost,
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('nsenter', [`--net=/run/netns/${host.ns}`, cmd, ...args], { timeoutMs });
}

/** The host's own dockerd. */
export function hostDocker(
  host: SimHost,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('docker', ['-H', `unix://${host.socket}`, ...args], { timeoutMs });
}
