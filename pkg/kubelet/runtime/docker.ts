// The Docker implementation of the agent's container runtime: every Docker call the agent
// makes goes through this class (dockerode over the Docker socket). Pure mechanism.

import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import { cidrContains, intToIp, parseCidr } from '../../api/cidr.js';
import { errorMessage } from '../../errors/index.js';
import {
  dockerName,
  identityOf,
  labelsFor,
  LABELS,
  ownerFilter,
  type ContainerIdentity,
  type Owner,
} from './labels.js';
import {
  ContainerConfigError,
  ImagePullError,
  type AttachSession,
  type ContainerRuntime,
  type ContainerSecurity,
  type ContainerSpec,
  type ContainerState,
  type ContainerStats,
  type ExecSession,
  type LogOptions,
  type ManagedSummary,
  type NetworkSpec,
  type SandboxSpec,
} from './interface.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Docker refuses memory limits under 6 MiB; Kubernetes allows them, so they are raised. */
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

function time(t: string | undefined): string | undefined {
  return t === undefined || t === '' || t.startsWith('0001-01-01') ? undefined : t.replace(/\.\d+Z$/, 'Z');
}

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  /** Every object made carries these labels; every list is filtered by them. */
  readonly owner: Owner;

  constructor(opts: { socketPath: string; nodeName: string; clusterId: string }) {
    this.docker = new Docker({ socketPath: opts.socketPath });
    this.owner = { cluster: opts.clusterId, node: opts.nodeName };
  }

  async version(): Promise<string> {
    return (await this.docker.version()).Version;
  }

  async imagePresent(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch {
      return false;
    }
  }

  /** Makes the image available per the pull policy; ImagePullError when it cannot be had. */
  async ensureImage(image: string, pullPolicy: string): Promise<void> {
    const present = await this.imagePresent(image);
    if (pullPolicy === 'Never') {
      if (!present) throw new ImagePullError(image, 'the image is not present and the pull policy is Never');
      return;
    }
    if (present && pullPolicy !== 'Always') return;
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      // Docker's pull errors go on for lines; the first says what failed.
      throw new ImagePullError(image, errorMessage(err).split('\n')[0] ?? '');
    }
  }

  /**
   * A user-defined bridge network of this owner with the given subnet (created once). An
   * existing one with another subnet is an error unless `replace` is set: then it is removed,
   * with the containers attached to it, and made anew. A subnet that overlaps any other
   * Docker network (another cluster's pods, say) is an error naming that network.
   */
  async ensureNetwork(name: string, spec: NetworkSpec): Promise<void> {
    const { subnet, gateway, ...opts } = spec;
    const all = await this.docker.listNetworks();
    const subnetsOf = (n: Docker.NetworkInspectInfo): string[] =>
      (n.IPAM?.Config ?? []).map((c) => c['Subnet'] ?? '').filter((x) => x !== '');
    const existing = all.find((n) => n.Name === name);
    if (existing !== undefined) {
      const owner = existing.Labels?.[LABELS.cluster];
      if (owner !== this.owner.cluster)
        throw new Error(
          `docker network ${name} exists but is not this cluster's (its ${LABELS.cluster} label is "${owner ?? ''}"): remove it with "docker network rm ${name}"`,
        );
      const node = existing.Labels?.[LABELS.node];
      if (node !== this.owner.node)
        throw new Error(
          `docker network ${name} belongs to node ${node ?? '(none)'} of this cluster: one dockerd holds the pod network of one node only`,
        );
      const subnets = subnetsOf(existing);
      if (subnets.includes(subnet)) return;
      if (!opts.replace)
        throw new Error(`docker network ${name} exists with subnet ${subnets.join(',') || 'none'}, not ${subnet}`);
      const net = this.docker.getNetwork(existing.Id);
      const info = await net.inspect();
      for (const id of Object.keys(info.Containers ?? {})) await this.docker.getContainer(id).remove({ force: true });
      await net.remove();
    }
    for (const n of all) {
      if (n.Name === name) continue;
      const clash = subnetsOf(n).find((s) => cidrsOverlap(s, subnet));
      if (clash === undefined) continue;
      const cluster = n.Labels?.[LABELS.cluster];
      // A pod network of an agent from before cluster labels (an older version).
      if (cluster === undefined && n.Labels?.[LABELS.node] !== undefined) {
        throw new Error(
          `the pod subnet ${subnet} overlaps Docker network ${n.Name} (${clash}) of an older node agent: unless that cluster still runs, remove it with "docker network rm ${n.Name}"`,
        );
      }
      throw new Error(
        `the pod subnet ${subnet} overlaps Docker network ${n.Name} (${clash}${cluster === undefined ? '' : `, cluster ${cluster}`}): give this cluster another cluster CIDR (controller-manager and agent --cluster-cidr, COXSWAIN_CLUSTER_CIDR for npm run up)`,
      );
    }
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: subnet, Gateway: gateway }] },
      Labels: { [LABELS.cluster]: this.owner.cluster, [LABELS.node]: this.owner.node },
      Options: {
        'com.docker.network.bridge.name': (opts.bridgeName ?? name).slice(0, 15),
        ...(opts.masquerade === false ? { 'com.docker.network.bridge.enable_ip_masquerade': 'false' } : {}),
      },
    });
  }

  /**
   * Removes every container and network of this runtime's cluster, of any node (the cluster
   * is going away); objects of other clusters stay. Returns how many of each went.
   */
  async removeCluster(): Promise<{ containers: number; networks: number }> {
    const label = [`${LABELS.cluster}=${this.owner.cluster}`];
    const containers = await this.docker.listContainers({ all: true, filters: { label } });
    for (const c of containers) await this.remove(c.Id);
    const networks = await this.docker.listNetworks({ filters: { label } });
    for (const n of networks) await this.removeNetwork(n.Id);
    return { containers: containers.length, networks: networks.length };
  }

  /** Removes a network (gone already is fine); fails while containers are attached. */
  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  /** Creates and starts the pod's sandbox; returns its id. */
  async runSandbox(identity: ContainerIdentity, spec: SandboxSpec): Promise<string> {
    const hostConfig: Docker.HostConfig = {
      NetworkMode: spec.hostNetwork ? 'host' : spec.network,
      // The app containers join its IPC namespace as they join its network namespace.
      IpcMode: spec.hostIPC ? 'host' : 'shareable',
      ...(spec.hostPID ? { PidMode: 'host' } : {}),
      RestartPolicy: { Name: 'no' },
    };
    if (spec.dns) {
      hostConfig.Dns = spec.dns.servers;
      hostConfig.DnsSearch = spec.dns.searches;
      hostConfig.DnsOptions = spec.dns.options;
    }
    const exposed: Record<string, Record<string, never>> = {};
    if (!spec.hostNetwork && spec.portBindings !== undefined && spec.portBindings.length > 0) {
      const bindings: Docker.PortMap = {};
      for (const b of spec.portBindings) {
        const key = `${b.containerPort}/${b.protocol.toLowerCase()}`;
        exposed[key] = {};
        (bindings[key] ??= []).push({ HostIp: b.hostIP ?? '', HostPort: String(b.hostPort) });
      }
      hostConfig.PortBindings = bindings;
    }
    const container = await this.docker.createContainer({
      name: dockerName(identity),
      Image: spec.image,
      Hostname: spec.hostNetwork ? undefined : spec.hostname,
      Labels: { ...spec.labels, ...labelsFor(this.owner, identity) },
      ExposedPorts: exposed,
      HostConfig: hostConfig,
    });
    await container.start();
    return container.id;
  }

  /** Creates (not starts) an app or init container joined to the sandbox's namespaces. */
  async createContainer(sandboxId: string, identity: ContainerIdentity, spec: ContainerSpec): Promise<string> {
    const hostConfig: Docker.HostConfig = {
      NetworkMode: `container:${sandboxId}`,
      IpcMode: `container:${sandboxId}`,
      Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
      RestartPolicy: { Name: 'no' },
    };
    if (spec.memoryLimitBytes !== undefined && spec.memoryLimitBytes > 0) {
      const limit = Math.max(MIN_MEMORY_BYTES, Math.floor(spec.memoryLimitBytes));
      hostConfig.Memory = limit;
      // No swap: going over the limit is an OOM kill, as in Kubernetes.
      hostConfig.MemorySwap = limit;
    }
    if (spec.nanoCpus !== undefined && spec.nanoCpus > 0) hostConfig.NanoCpus = Math.floor(spec.nanoCpus);
    if (spec.cpuShares !== undefined) hostConfig.CpuShares = spec.cpuShares;
    const options: Docker.ContainerCreateOptions = {
      name: dockerName(identity),
      Image: spec.image,
      Env: spec.env,
      Labels: { ...spec.labels, ...labelsFor(this.owner, identity) },
      Tty: spec.tty === true,
      OpenStdin: spec.stdin === true,
      StdinOnce: spec.stdin === true && spec.stdinOnce === true,
      // Docker keeps an open stdin only for a container created with stdin attached.
      AttachStdin: spec.stdin === true,
      HostConfig: hostConfig,
    };
    if (spec.command !== undefined && spec.command.length > 0) {
      options.Entrypoint = spec.command;
      options.Cmd = spec.args ?? [];
    } else if (spec.args !== undefined && spec.args.length > 0) options.Cmd = spec.args;
    if (spec.workingDir !== undefined && spec.workingDir !== '') options.WorkingDir = spec.workingDir;
    if (spec.security !== undefined) await this.applySecurity(options, { sandboxId, security: spec.security });
    if (spec.pidNamespaceOf !== undefined) hostConfig.PidMode = `container:${spec.pidNamespaceOf}`;
    const container = await this.docker.createContainer(options);
    return container.id;
  }

  /** The security settings as Docker's: namespaces, privileges, capabilities, user, root filesystem. */
  private async applySecurity(
    options: Docker.ContainerCreateOptions,
    at: { sandboxId: string; security: ContainerSecurity },
  ): Promise<void> {
    const { sandboxId, security } = at;
    const hostConfig: Docker.HostConfig = options.HostConfig ?? {};
    if (security.hostPID) hostConfig.PidMode = 'host';
    else if (security.sharePodPID) hostConfig.PidMode = `container:${sandboxId}`;
    if (security.hostIPC) hostConfig.IpcMode = 'host';
    if (security.privileged) hostConfig.Privileged = true;
    if (security.capAdd !== undefined) hostConfig.CapAdd = security.capAdd;
    if (security.capDrop !== undefined) hostConfig.CapDrop = security.capDrop;
    if (security.readOnlyRootFilesystem) hostConfig.ReadonlyRootfs = true;
    if (security.supplementalGroups !== undefined) hostConfig.GroupAdd = security.supplementalGroups.map(String);
    const securityOpt: string[] = [];
    if (security.noNewPrivileges) securityOpt.push('no-new-privileges');
    if (security.seccompUnconfined) securityOpt.push('seccomp=unconfined');
    if (security.appArmorUnconfined) securityOpt.push('apparmor=unconfined');
    if (securityOpt.length > 0) hostConfig.SecurityOpt = securityOpt;
    options.HostConfig = hostConfig;
    const { runAsUser, runAsGroup } = security;
    if (runAsUser === undefined && runAsGroup === undefined && !security.runAsNonRoot) return;
    // Without runAsUser the image's user runs (with runAsGroup as its group).
    const user = runAsUser !== undefined ? String(runAsUser) : await this.imageUser(options.Image ?? '');
    if (security.runAsNonRoot) {
      if (!/^\d+$/.test(user))
        throw new ContainerConfigError(
          `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root`,
        );
      if (Number(user) === 0) throw new ContainerConfigError('container has runAsNonRoot and image will run as root');
    }
    if (runAsUser !== undefined || runAsGroup !== undefined)
      options.User = runAsGroup !== undefined ? `${user}:${runAsGroup}` : user;
  }

  /** The user part of the image's USER; root (0) when it sets none. */
  private async imageUser(image: string): Promise<string> {
    const info = await this.docker.getImage(image).inspect();
    const user = (info.Config.User ?? '').split(':')[0] ?? '';
    return user === '' || user === 'root' ? '0' : user;
  }

  async start(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  /** SIGTERM, then SIGKILL after the grace period (Docker's stop does exactly this). */
  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.floor(graceSeconds)) });
    } catch (err) {
      if (!isStatus(err, 304) && !isStatus(err, 404)) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
  }

  async inspect(id: string): Promise<ContainerState | undefined> {
    try {
      return this.toState(await this.docker.getContainer(id).inspect());
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  private toState(info: Docker.ContainerInspectInfo): ContainerState | undefined {
    const identity = identityOf(info.Config.Labels);
    if (identity === undefined) return undefined;
    const networks = Object.values(info.NetworkSettings.Networks ?? {});
    const ip = networks.map((n) => n.IPAddress).find((a) => a !== undefined && a !== '');
    return {
      id: info.Id,
      identity,
      running: info.State.Running,
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      createdAt: time(info.Created) ?? ZERO_TIME,
      startedAt: time(info.State.StartedAt),
      finishedAt: time(info.State.FinishedAt),
      imageId: info.Image,
      image: info.Config.Image,
      ip,
      pid: info.State.Running && info.State.Pid > 0 ? info.State.Pid : undefined,
      status: info.State.Status,
      error: info.State.Error || undefined,
    };
  }

  /**
   * One sample from Docker's stats API: one-shot (no second sample to wait a second for), as
   * the cumulative CPU counter is all a rate needs. The working set is usage minus inactive
   * file cache (cgroup v2 names it inactive_file, v1 total_inactive_file), as cadvisor computes it.
   */
  async stats(id: string): Promise<ContainerStats | undefined> {
    let sample: Docker.ContainerStats;
    try {
      sample = await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true });
    } catch (err) {
      if (isStatus(err, 404) || isStatus(err, 409)) return undefined;
      throw err;
    }
    const cpu = sample.cpu_stats.cpu_usage.total_usage;
    const memory = sample.memory_stats;
    // A stopped container answers with an empty sample (no usage, no cpu time).
    if (typeof cpu !== 'number' || typeof memory.usage !== 'number') return undefined;
    const counters: Partial<Record<string, number>> = memory.stats;
    const inactive = counters['inactive_file'] ?? counters['total_inactive_file'] ?? 0;
    return { cpuUsageNanoseconds: cpu, memoryWorkingSetBytes: Math.max(0, memory.usage - inactive) };
  }

  /** Every container this agent created on this node (or of one pod), running or not. */
  async listManaged(podUid?: string): Promise<ContainerState[]> {
    const label = ownerFilter(this.owner);
    if (podUid !== undefined) label.push(`${LABELS.podUid}=${podUid}`);
    const list = await this.docker.listContainers({ all: true, filters: { label } });
    const states = await Promise.all(list.map((c) => this.inspect(c.Id)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  /** Every container of this node with its identity and Docker state, from one list call. */
  async listManagedSummary(): Promise<ManagedSummary[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: ownerFilter(this.owner) } });
    const out: ManagedSummary[] = [];
    for (const c of list) {
      const identity = identityOf(c.Labels);
      if (identity !== undefined) out.push({ id: c.Id, identity, status: c.State });
    }
    return out;
  }

  /** stdout and stderr in order, as one byte stream. */
  async logs(id: string, opts: LogOptions): Promise<Readable> {
    const container = this.docker.getContainer(id);
    const info = await container.inspect();
    const base = {
      stdout: true,
      stderr: true,
      timestamps: opts.timestamps === true,
      ...(opts.tailLines !== undefined ? { tail: opts.tailLines } : {}),
      ...(opts.since !== undefined ? { since: dockerTimestamp(opts.since) } : {}),
    };
    const out = new PassThrough();
    if (opts.follow) {
      const stream = await container.logs({ ...base, follow: true });
      if (info.Config.Tty) stream.pipe(out);
      else {
        this.docker.modem.demuxStream(stream, out, out);
        stream.on('end', () => out.end());
        stream.on('error', (err) => out.destroy(err));
      }
      // dockerode types the stream loosely (NodeJS.ReadableStream); it is the HTTP response, a Readable.
      out.on('close', () => {
        if (stream instanceof Readable) stream.destroy();
      });
    } else {
      const buf = await container.logs({ ...base, follow: false });
      out.end(info.Config.Tty ? buf : demuxBuffer(buf));
    }
    return out;
  }

  async attach(id: string, opts: { stdin: boolean }): Promise<AttachSession> {
    const container = this.docker.getContainer(id);
    const info = await container.inspect();
    if (!info.State.Running) throw new Error(`container is in ${info.State.Status} state`);
    const withStdin = opts.stdin && info.Config.OpenStdin;
    const stream = await container.attach({ stream: true, stdin: withStdin, stdout: true, stderr: true, hijack: true });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (info.Config.Tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
    const ended = new Promise<void>((resolve) => {
      const done = (): void => {
        stdout.end();
        stderr.end();
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
    return {
      stdin: withStdin ? stream : undefined,
      stdinOnce: info.Config.StdinOnce,
      stdout,
      stderr,
      resize: async (w, h) => {
        if (info.Config.Tty && w > 0 && h > 0) await container.resize({ w, h });
      },
      ended,
      close: () => {
        if (stream instanceof Readable) stream.destroy();
      },
    };
  }

  async exec(id: string, opts: { cmd: string[]; tty: boolean; stdin: boolean }): Promise<ExecSession> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: opts.cmd,
      AttachStdin: opts.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: opts.tty,
    });
    const stream = await exec.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (opts.tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
    const exitCode = new Promise<number>((resolve) => {
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        stdout.end();
        stderr.end();
        exitCodeOf(exec).then(resolve, () => resolve(1));
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    return {
      stdin: opts.stdin ? stream : undefined,
      stdout,
      stderr,
      resize: async (w, h) => {
        if (opts.tty && w > 0 && h > 0) await exec.resize({ w, h });
      },
      exitCode,
    };
  }
}

/** The exec's exit code; Docker may report it a moment after the stream ends. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && typeof info.ExitCode === 'number') return info.ExitCode;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the exec did not report an exit code');
}

/** Whether two IPv4 CIDRs share an address (one holds the other's base); IPv6 never clashes here. */
function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x !== undefined && y !== undefined && (cidrContains(x, intToIp(y.base)) || cidrContains(y, intToIp(x.base)));
}

function isStatus(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && 'statusCode' in err && err.statusCode === code;
}

/** Docker's multiplexed log format (8-byte frame headers) to plain bytes. */
export function demuxBuffer(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts);
}

/** A time as Docker's `since` takes it: Unix seconds with a fraction (`1700000000.123`). */
function dockerTimestamp(time: Date): string {
  const ms = Math.max(0, time.getTime());
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
}
