// Bringing one pod's containers in line with its spec (the kubelet's SyncPod): the sandbox,
// init containers in order, app containers with their restart policy and back-off, probes,
// image pulls, graceful termination, and the status written back to the API. Level-based:
// every call looks at what runs now and does the next step.

import { createHash } from 'node:crypto';
import { isObject, type KubeObject } from '../api/meta.js';
import { mustFind } from '../api/registry.js';
import { parseQuantity } from '../api/quantity.js';
import type { EventRecorder, RestClient } from '../client/index.js';
import { isConflict, isNotFound } from '../errors/index.js';
import { Backoff, type Clock } from './backoff.js';
import { EnvError, ObjectLookup, resolveEnv } from './env.js';
import { computePodStatus, nextAttempt, statusChanged, type Waiting } from './pod-status.js';
import { ProbeManager, type ProbeKind } from './probes.js';
import { ImagePullError, type ContainerState, type ContainerRuntime, type Mount } from './runtime/index.js';
import { podDir, prepareVolumes, removePodDir, VolumeError } from './volumes.js';
import { podResolvConf, renderResolvConf, type ClusterDns } from './pod-dns.js';
import { writeAtomic } from './files.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

type Obj = Record<string, unknown>;

export interface PodSyncConfig {
  nodeName: string;
  nodeIP: string;
  rootDir: string;
  sandboxImage: string;
  /** Docker network of pod sandboxes (set once the node's pod network exists). */
  podNetwork: string;
  /** The cluster DNS pods with dnsPolicy ClusterFirst use; none: the node's resolver. */
  dns?: ClusterDns;
  /** Runs after a pod sandbox started (the pod network sets hairpin mode on its port). */
  afterSandboxStart?: () => Promise<void>;
  /** Service environment variables for a pod's namespace (enableServiceLinks). */
  serviceEnv?: (namespace: string, enableServiceLinks: boolean) => Record<string, string>;
}

export interface SyncResult {
  /** Look at this pod again after this many ms (a back-off expiring, a container starting). */
  requeueAfterMs?: number;
}

const PODS = mustFind('', 'v1', 'pods');

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function containersOf(pod: KubeObject, field: 'containers' | 'initContainers'): Obj[] {
  const spec = (pod['spec'] ?? {}) as Obj;
  return (Array.isArray(spec[field]) ? spec[field] : []).filter(isObject);
}

/** Changes to these fields of a container mean it must be recreated. */
export function containerHash(c: Obj): string {
  const relevant = { image: c['image'], command: c['command'], args: c['args'], env: c['env'], envFrom: c['envFrom'], workingDir: c['workingDir'], volumeMounts: c['volumeMounts'], resources: c['resources'], ports: c['ports'] };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12);
}

function ms(t: string | undefined): number {
  return t ? Date.parse(t) : 0;
}

export class PodSyncer {
  private readonly crashBackoff = new Backoff();
  private readonly pullBackoff = new Backoff();
  private readonly pullFailedAt = new Map<string, number>();
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  private readonly lastStatus = new Map<string, unknown>();

  constructor(
    private readonly config: PodSyncConfig,
    private readonly client: RestClient,
    private readonly runtime: ContainerRuntime,
    readonly probes: ProbeManager,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
  ) {}

  /** Points the pod sandboxes at the node's pod network and DNS once they exist. */
  setNetwork(network: string, dns: ClusterDns | undefined, afterSandboxStart?: () => Promise<void>): void {
    this.config.podNetwork = network;
    if (afterSandboxStart !== undefined) this.config.afterSandboxStart = afterSandboxStart;
    if (dns === undefined) delete this.config.dns;
    else this.config.dns = dns;
  }

  /** The pod's resolv.conf, written under its folder (undefined: Docker's default). */
  private resolvConfFile(pod: KubeObject): string | undefined {
    const conf = podResolvConf((pod['spec'] ?? {}) as Parameters<typeof podResolvConf>[0], pod.metadata.namespace ?? 'default', this.config.dns);
    if (conf === undefined) return undefined;
    const dir = podDir(this.config.rootDir, pod.metadata.uid ?? '');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'resolv.conf');
    writeAtomic(path, renderResolvConf(conf), 0o644);
    return path;
  }

  /** Attempts of each container of a pod (newest first), plus its sandboxes. */
  private async observe(uid: string): Promise<{ sandboxes: ContainerState[]; containers: Map<string, ContainerState[]> }> {
    const all = await this.runtime.listManaged(uid);
    all.sort((a, b) => b.identity.attempt - a.identity.attempt);
    const containers = new Map<string, ContainerState[]>();
    for (const c of all.filter((x) => x.identity.type !== 'sandbox')) {
      const list = containers.get(c.identity.containerName) ?? [];
      list.push(c);
      containers.set(c.identity.containerName, list);
    }
    return { sandboxes: all.filter((c) => c.identity.type === 'sandbox'), containers };
  }

  private setWaiting(uid: string, name: string, w: Waiting | undefined): void {
    let m = this.waiting.get(uid);
    if (m === undefined) {
      m = new Map();
      this.waiting.set(uid, m);
    }
    if (w === undefined) m.delete(name);
    else m.set(name, w);
  }

  /** Stops and removes everything of a pod (SIGTERM, grace, SIGKILL), then its files. */
  async killPod(uid: string, graceSeconds: number, pod?: KubeObject): Promise<void> {
    this.probes.stop(uid);
    const { sandboxes, containers } = await this.observe(uid);
    const running = [...containers.values()].flat().filter((c) => c.running);
    await Promise.all(running.map(async (c) => {
      if (pod) this.events.event(pod, 'Normal', 'Killing', `Stopping container ${c.identity.containerName}`);
      await this.runtime.stop(c.id, graceSeconds);
    }));
    for (const c of [...containers.values()].flat()) await this.runtime.remove(c.id);
    for (const s of sandboxes) {
      await this.runtime.stop(s.id, 0);
      await this.runtime.remove(s.id);
    }
    this.crashBackoff.forget(`${uid}/`);
    this.pullBackoff.forget(`${uid}/`);
    this.waiting.delete(uid);
    this.lastStatus.delete(uid);
    removePodDir(this.config.rootDir, uid);
  }

  async sync(pod: KubeObject): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? '';
    const spec = (pod['spec'] ?? {}) as Obj;
    if (pod.metadata.deletionTimestamp !== undefined) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30);
      await this.killPod(uid, grace, pod);
      // The containers are gone: complete the deletion the apiserver staged.
      try {
        await this.client.delete(PODS, pod.metadata.name ?? '', { namespace: pod.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      return {};
    }
    const status = (pod['status'] ?? {}) as Obj;
    const observed = await this.observe(uid);
    if ((status['phase'] === 'Succeeded' || status['phase'] === 'Failed') && ![...observed.containers.values()].flat().some((c) => c.running)) {
      for (const s of observed.sandboxes) if (s.running) await this.runtime.stop(s.id, 0);
      return {};
    }
    const result: SyncResult = {};
    const requeue = (after: number): void => {
      result.requeueAfterMs = Math.min(result.requeueAfterMs ?? after, after);
    };

    // The sandbox holds the network namespace; if it died, everything starts over in a new one.
    let sandbox = observed.sandboxes.find((s) => s.running);
    if (sandbox === undefined) {
      const attempt = (observed.sandboxes[0]?.identity.attempt ?? -1) + 1;
      for (const c of [...observed.containers.values()].flat()) if (c.running) await this.runtime.stop(c.id, 0);
      for (const s of observed.sandboxes) await this.runtime.remove(s.id);
      try {
        await this.runtime.ensureImage(this.config.sandboxImage, 'IfNotPresent');
        const id = await this.runtime.runSandbox(
          { uid, namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', containerName: 'POD', attempt, type: 'sandbox', specHash: '' },
          { image: this.config.sandboxImage, network: this.config.podNetwork, hostname: str(spec['hostname']) || (pod.metadata.name ?? '').slice(0, 63), hostNetwork: spec['hostNetwork'] === true },
        );
        sandbox = await this.runtime.inspect(id);
        await this.config.afterSandboxStart?.();
      } catch (err) {
        this.events.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`);
        requeue(5000);
        return result;
      }
      if (sandbox === undefined) return { requeueAfterMs: 1000 };
    }
    const podIP = spec['hostNetwork'] === true ? this.config.nodeIP : sandbox.ip;

    let volumes: Map<string, string>;
    const lookup = new ObjectLookup(this.client, pod.metadata.namespace ?? 'default');
    try {
      volumes = await prepareVolumes(pod, this.client, this.config.rootDir);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      for (const c of [...containersOf(pod, 'initContainers'), ...containersOf(pod, 'containers')]) {
        this.setWaiting(uid, str(c['name']), { reason: 'CreateContainerConfigError', message: err.message });
      }
      this.events.event(pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
      await this.writeStatus(pod, podIP, observed.containers);
      return { requeueAfterMs: 5000 };
    }

    // Init containers, one at a time, in order.
    let initDone = true;
    for (const c of containersOf(pod, 'initContainers')) {
      const name = str(c['name']);
      const latest = observed.containers.get(name)?.[0];
      if (latest !== undefined && !latest.running && latest.startedAt !== undefined && latest.exitCode === 0) continue;
      initDone = false;
      if (latest?.running) break;
      if (latest !== undefined && latest.startedAt !== undefined && spec['restartPolicy'] === 'Never') break; // failed for good
      const wait = await this.startContainer(pod, c, 'init', latest, sandbox.id, volumes, lookup, podIP);
      if (wait !== undefined) requeue(wait);
      break;
    }

    if (initDone) {
      for (const c of containersOf(pod, 'containers')) {
        const wait = await this.syncAppContainer(pod, c, observed.containers.get(str(c['name'])) ?? [], sandbox, volumes, lookup, podIP);
        if (wait !== undefined) requeue(wait);
      }
    }
    const fresh = await this.observe(uid);
    await this.writeStatus(pod, podIP, fresh.containers);
    return result;
  }

  private async syncAppContainer(pod: KubeObject, c: Obj, attempts: ContainerState[], sandbox: ContainerState, volumes: Map<string, string>, lookup: ObjectLookup, podIP: string | undefined): Promise<number | undefined> {
    const uid = pod.metadata.uid ?? '';
    const name = str(c['name']);
    const latest = attempts[0];
    const policy = str(((pod['spec'] ?? {}) as Obj)['restartPolicy']) || 'Always';
    if (latest?.running) {
      const kill = async (why: string): Promise<number> => {
        this.events.event(pod, 'Normal', 'Killing', why);
        this.probes.stop(uid, name);
        const grace = ((pod['spec'] ?? {}) as Obj)['terminationGracePeriodSeconds'];
        await this.runtime.stop(latest.id, typeof grace === 'number' ? grace : 30);
        return 0;
      };
      if (latest.identity.specHash !== containerHash(c)) return kill(`Container ${name} definition changed, will be restarted`);
      if (this.probes.result(uid, name, 'liveness') === false) return kill(`Container ${name} failed liveness probe, will be restarted`);
      if (this.probes.result(uid, name, 'startup') === false) return kill(`Container ${name} failed startup probe, will be restarted`);
      this.setWaiting(uid, name, undefined);
      for (const kind of ['startup', 'liveness', 'readiness'] as ProbeKind[]) {
        const probe = c[`${kind}Probe`];
        if (!isObject(probe)) continue;
        this.probes.ensure({ podUid: uid, containerName: name, containerId: latest.id, podIP, container: c, probe, kind, startedAt: ms(latest.startedAt) || this.clock.now() });
      }
      return undefined;
    }
    if (latest !== undefined && latest.startedAt !== undefined) {
      const restart = policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0);
      if (!restart) {
        this.setWaiting(uid, name, undefined);
        return undefined;
      }
    }
    return this.startContainer(pod, c, 'app', latest, sandbox.id, volumes, lookup, podIP);
  }

  /**
   * Starts the next attempt of a container, honouring the crash and image-pull back-offs.
   * Returns when to look again (ms), or undefined.
   */
  private async startContainer(pod: KubeObject, c: Obj, type: 'init' | 'app', latest: ContainerState | undefined, sandboxId: string, volumes: Map<string, string>, lookup: ObjectLookup, podIP: string | undefined): Promise<number | undefined> {
    const uid = pod.metadata.uid ?? '';
    const name = str(c['name']);
    const key = `${uid}/${name}`;
    const now = this.clock.now();
    const attempt = nextAttempt(pod, name, type === 'init', latest);
    if (latest !== undefined) {
      if (latest.startedAt !== undefined) {
        const finished = ms(latest.finishedAt) || now;
        const remaining = this.crashBackoff.remaining(key, finished, now);
        if (remaining > 0) {
          const delay = Math.round(this.crashBackoff.delay(key) / 1000);
          const message = `back-off ${delay}s restarting failed container=${name} pod=${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${uid})`;
          this.setWaiting(uid, name, { reason: 'CrashLoopBackOff', message });
          this.events.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container ' + name + ' in pod ' + (pod.metadata.name ?? ''));
          return remaining;
        }
        this.crashBackoff.restarted(key, finished - ms(latest.startedAt));
      }
    }
    const image = str(c['image']);
    const pullKey = `${key}/image`;
    const pullPolicy = str(c['imagePullPolicy']) || 'IfNotPresent';
    const failedAt = this.pullFailedAt.get(pullKey);
    if (failedAt !== undefined) {
      const remaining = this.pullBackoff.remaining(pullKey, failedAt, now);
      if (remaining > 0) {
        this.setWaiting(uid, name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
        this.events.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
        return remaining;
      }
    }
    try {
      const present = await this.runtime.imagePresent(image);
      if (!present || pullPolicy === 'Always') this.events.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
      await this.runtime.ensureImage(image, pullPolicy);
      if (!present || pullPolicy === 'Always') this.events.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}"`);
      else this.events.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      this.pullFailedAt.delete(pullKey);
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.pullFailedAt.set(pullKey, now);
      this.pullBackoff.restarted(pullKey, 0);
      this.setWaiting(uid, name, { reason: 'ErrImagePull', message: err.message });
      this.events.event(pod, 'Warning', 'Failed', err.message);
      this.events.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
      return this.pullBackoff.delay(pullKey);
    }
    let env: string[];
    const podSpec = (pod['spec'] ?? {}) as Obj;
    const services = this.config.serviceEnv?.(pod.metadata.namespace ?? 'default', podSpec['enableServiceLinks'] !== false) ?? {};
    try {
      env = await resolveEnv({ ...pod, status: { ...((pod['status'] ?? {}) as Obj), podIP, hostIP: this.config.nodeIP } }, c, lookup, services);
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      this.setWaiting(uid, name, { reason: 'CreateContainerConfigError', message: err.message });
      this.events.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return 5000;
    }
    const mounts: Mount[] = [];
    for (const m of (Array.isArray(c['volumeMounts']) ? c['volumeMounts'] : []).filter(isObject)) {
      const host = volumes.get(str(m['name']));
      if (host === undefined) continue;
      mounts.push({ hostPath: str(m['subPath']) ? `${host}/${str(m['subPath'])}` : host, containerPath: str(m['mountPath']), readOnly: m['readOnly'] === true || isConfigVolume(pod, str(m['name'])) });
    }
    const resolv = this.resolvConfFile(pod);
    if (resolv !== undefined && !mounts.some((m) => m.containerPath === '/etc/resolv.conf')) mounts.push({ hostPath: resolv, containerPath: '/etc/resolv.conf', readOnly: true });
    const limits = (((c['resources'] ?? {}) as Obj)['limits'] ?? {}) as Obj;
    const requests = (((c['resources'] ?? {}) as Obj)['requests'] ?? {}) as Obj;
    const identity = { uid, namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', containerName: name, attempt, type, specHash: containerHash(c) } as const;
    try {
      const id = await this.runtime.createContainer(sandboxId, identity, {
        image,
        ...(Array.isArray(c['command']) ? { command: c['command'].map(String) } : {}),
        ...(Array.isArray(c['args']) ? { args: c['args'].map(String) } : {}),
        env,
        ...(str(c['workingDir']) ? { workingDir: str(c['workingDir']) } : {}),
        mounts,
        ...(limits['memory'] !== undefined ? { memoryLimitBytes: Math.floor(parseQuantity(limits['memory'])) } : {}),
        ...(limits['cpu'] !== undefined ? { nanoCpus: Math.floor(parseQuantity(limits['cpu']) * 1e9) } : {}),
        ...(requests['cpu'] !== undefined ? { cpuShares: Math.max(2, Math.floor(parseQuantity(requests['cpu']) * 1024)) } : {}),
        tty: c['tty'] === true,
        stdin: c['stdin'] === true,
      });
      this.events.event(pod, 'Normal', 'Created', `Created container ${name}`);
      await this.runtime.start(id);
      this.events.event(pod, 'Normal', 'Started', `Started container ${name}`);
    } catch (err) {
      this.setWaiting(uid, name, { reason: 'CreateContainerError', message: err instanceof Error ? err.message : String(err) });
      this.events.event(pod, 'Warning', 'Failed', `Error: ${err instanceof Error ? err.message : String(err)}`);
      return 5000;
    }
    this.setWaiting(uid, name, undefined);
    // Keep the previous attempt (for --previous logs and lastState); older ones go.
    const attempts = (await this.runtime.listManaged(uid)).filter((x) => x.identity.containerName === name && x.identity.type === type);
    for (const old of attempts) if (old.identity.attempt < attempt - 1) await this.runtime.remove(old.id);
    return 1000;
  }

  private async writeStatus(pod: KubeObject, podIP: string | undefined, containers: Map<string, ContainerState[]>): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const status = computePodStatus({
      pod,
      podIP,
      hostIP: this.config.nodeIP,
      containers,
      waiting: this.waiting.get(uid) ?? new Map(),
      ready: (name) => {
        const c = containersOf(pod, 'containers').find((x) => x['name'] === name);
        if (!isObject(c?.['readinessProbe'])) return true;
        return this.probes.result(uid, name, 'readiness') === true;
      },
      started: (name) => {
        const c = containersOf(pod, 'containers').find((x) => x['name'] === name);
        if (!isObject(c?.['startupProbe'])) return true;
        return this.probes.result(uid, name, 'startup') === true;
      },
      now: new Date(this.clock.now()),
    });
    if (!statusChanged(status, pod['status']) || !statusChanged(status, this.lastStatus.get(uid))) return;
    try {
      await this.client.patch(PODS, pod.metadata.name ?? '', 'merge', { status }, { namespace: pod.metadata.namespace, subresource: 'status' });
      this.lastStatus.set(uid, status);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function isConfigVolume(pod: KubeObject, name: string): boolean {
  const v = (((pod['spec'] ?? {}) as Obj)['volumes'] as Obj[] | undefined)?.find((x) => isObject(x) && x['name'] === name);
  return v !== undefined && (v['configMap'] !== undefined || v['secret'] !== undefined);
}
