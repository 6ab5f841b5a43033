// Bringing one pod's containers in line with its spec (the kubelet's SyncPod): pod-actions.ts
// decides what to do from what runs; this executor does it over the runtime interface (the
// sandbox, kills, image pulls, env and volumes, create and start), writes the status back to
// the API, and handles graceful termination. Level-based: every call does the next step.

import { isObject, type KubeObject } from '../api/meta.js';
import { mustFind } from '../api/registry.js';
import type { EventRecorder } from '../client/index.js';
import type { PodApi } from './pod-api.js';
import { isConflict, isNotFound } from '../errors/index.js';
import { Backoff, type Clock } from './backoff.js';
import { containerConfig } from './container-config.js';
import { EnvError, ObjectLookup, resolveEnv } from './env.js';
import {
  computePodActions,
  containerHash,
  containersOf,
  ms,
  observationOf,
  str,
  type ContainerStart,
  type PodActions,
  type PodObservation,
} from './pod-actions.js';
import { computePodStatus, nextAttempt, statusChanged, type Waiting } from './pod-status.js';
import type { ProbeKind, ProbeManager } from './probes.js';
import type { ContainerRuntime } from './runtime/index.js';
import { prepareVolumes, removePodDir, VolumeError } from './volumes.js';
import type { ClusterDns } from './pod-dns.js';
import { writePodResolvConf } from './pod-resolv-conf.js';
import { ImagePuller } from './image-puller.js';

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

/** The probes' verdicts and workers pod sync uses. */
export type ProbeResults = Pick<ProbeManager, 'ensure' | 'result' | 'stop' | 'stopAll'>;

export class PodSyncer {
  private readonly crashBackoff = new Backoff();
  private readonly images: ImagePuller;
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  private readonly lastStatus = new Map<string, unknown>();

  constructor(
    private readonly config: PodSyncConfig,
    private readonly client: PodApi,
    private readonly runtime: ContainerRuntime,
    readonly probes: ProbeResults,
    private readonly events: Pick<EventRecorder, 'event'>,
    private readonly clock: Clock,
  ) {
    this.images = new ImagePuller(runtime, events, clock);
  }

  /** Points the pod sandboxes at the node's pod network and DNS once they exist. */
  setNetwork(network: string, dns: ClusterDns | undefined, afterSandboxStart?: () => Promise<void>): void {
    this.config.podNetwork = network;
    if (afterSandboxStart !== undefined) this.config.afterSandboxStart = afterSandboxStart;
    if (dns === undefined) delete this.config.dns;
    else this.config.dns = dns;
  }

  private async observe(uid: string): Promise<PodObservation> {
    return observationOf(await this.runtime.listManaged(uid));
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
    await Promise.all(
      running.map(async (c) => {
        if (pod) this.events.event(pod, 'Normal', 'Killing', `Stopping container ${c.identity.containerName}`);
        await this.runtime.stop(c.id, graceSeconds);
      }),
    );
    for (const c of [...containers.values()].flat()) await this.runtime.remove(c.id);
    for (const s of sandboxes) {
      await this.runtime.stop(s.id, 0);
      await this.runtime.remove(s.id);
    }
    this.crashBackoff.forget(`${uid}/`);
    this.images.forget(uid);
    this.waiting.delete(uid);
    this.lastStatus.delete(uid);
    removePodDir(this.config.rootDir, uid);
  }

  async sync(pod: KubeObject): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? '';
    const spec = (pod['spec'] ?? {}) as Obj;
    if (pod.metadata.deletionTimestamp !== undefined) {
      const grace =
        pod.metadata.deletionGracePeriodSeconds ??
        (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30);
      await this.killPod(uid, grace, pod);
      // The containers are gone: complete the deletion the apiserver staged.
      try {
        await this.client.delete(PODS, pod.metadata.name ?? '', {
          namespace: pod.metadata.namespace,
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      return {};
    }
    let observed = await this.observe(uid);
    let actions = this.plan(pod, observed);
    if (actions.finished) {
      for (const s of observed.sandboxes) if (s.running) await this.runtime.stop(s.id, 0);
      return {};
    }
    if (actions.createSandbox) {
      if (!(await this.recreateSandbox(pod, observed, actions.sandboxAttempt))) return { requeueAfterMs: 5000 };
      observed = await this.observe(uid);
      actions = this.plan(pod, observed);
    }
    const sandbox = observed.sandboxes.find((s) => s.running);
    if (sandbox === undefined || actions.createSandbox) return { requeueAfterMs: 1000 };
    const podIP = spec['hostNetwork'] === true ? this.config.nodeIP : sandbox.ip;
    const result: SyncResult = {};
    const requeue = (after: number): void => {
      result.requeueAfterMs = Math.min(result.requeueAfterMs ?? after, after);
    };

    let volumes: Map<string, string>;
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
    for (const name of actions.settled) this.setWaiting(uid, name, undefined);
    for (const b of actions.backOff) {
      this.setWaiting(uid, b.name, { reason: 'CrashLoopBackOff', message: b.message });
      this.events.event(
        pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${b.name} in pod ${pod.metadata.name ?? ''}`,
      );
      requeue(b.remainingMs);
    }
    for (const k of actions.containersToKill) {
      this.events.event(pod, 'Normal', 'Killing', k.message);
      this.probes.stop(uid, k.name);
      await this.runtime.stop(
        k.id,
        typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30,
      );
      requeue(0);
    }
    for (const r of actions.running) {
      for (const kind of ['startup', 'liveness', 'readiness'] as ProbeKind[]) {
        const probe = r.container[`${kind}Probe`];
        if (!isObject(probe)) continue;
        this.probes.ensure({
          podUid: uid,
          containerName: r.name,
          containerId: r.state.id,
          podIP,
          container: r.container,
          probe,
          kind,
          startedAt: ms(r.state.startedAt) || this.clock.now(),
        });
      }
    }
    const lookup = new ObjectLookup(this.client, pod.metadata.namespace ?? 'default');
    for (const start of actions.containersToStart) {
      requeue(await this.startContainer(pod, start, { sandboxId: sandbox.id, volumes, lookup, podIP }));
    }
    const fresh = await this.observe(uid);
    await this.writeStatus(pod, podIP, fresh.containers);
    return result;
  }

  private plan(pod: KubeObject, observed: PodObservation): PodActions {
    const uid = pod.metadata.uid ?? '';
    return computePodActions(pod, observed, this.clock.now(), {
      probeResult: (name, kind) => this.probes.result(uid, name, kind),
      backoffRemaining: (name, finishedAt, now) => this.crashBackoff.remaining(`${uid}/${name}`, finishedAt, now),
      backoffDelay: (name) => this.crashBackoff.delay(`${uid}/${name}`),
    });
  }

  /** Stops what runs of the pod and starts a new sandbox; false (and an event) if it failed. */
  private async recreateSandbox(pod: KubeObject, observed: PodObservation, attempt: number): Promise<boolean> {
    const spec = (pod['spec'] ?? {}) as Obj;
    for (const c of [...observed.containers.values()].flat()) if (c.running) await this.runtime.stop(c.id, 0);
    for (const s of observed.sandboxes) await this.runtime.remove(s.id);
    try {
      await this.runtime.ensureImage(this.config.sandboxImage, 'IfNotPresent');
      await this.runtime.runSandbox(
        {
          uid: pod.metadata.uid ?? '',
          namespace: pod.metadata.namespace ?? '',
          name: pod.metadata.name ?? '',
          containerName: 'POD',
          attempt,
          type: 'sandbox',
          specHash: '',
        },
        {
          image: this.config.sandboxImage,
          network: this.config.podNetwork,
          hostname: str(spec['hostname']) || (pod.metadata.name ?? '').slice(0, 63),
          hostNetwork: spec['hostNetwork'] === true,
        },
      );
      await this.config.afterSandboxStart?.();
      return true;
    } catch (err) {
      this.events.event(
        pod,
        'Warning',
        'FailedCreatePodSandBox',
        `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`,
      );
      return false;
    }
  }

  /** Pulls the image (honouring its back-off), then creates and starts the next attempt; when to look again (ms). */
  private async startContainer(
    pod: KubeObject,
    start: ContainerStart,
    at: { sandboxId: string; volumes: Map<string, string>; lookup: ObjectLookup; podIP: string | undefined },
  ): Promise<number> {
    const uid = pod.metadata.uid ?? '';
    const { name, container: c, type } = start;
    const key = `${uid}/${name}`;
    if (start.ranForMs !== undefined) this.crashBackoff.restarted(key, start.ranForMs);
    const hold = await this.images.pull(pod, name, str(c['image']), str(c['imagePullPolicy']) || 'IfNotPresent');
    if (hold !== undefined) {
      this.setWaiting(uid, name, hold.waiting);
      return hold.retryAfterMs;
    }
    let env: string[];
    const services =
      this.config.serviceEnv?.(
        pod.metadata.namespace ?? 'default',
        (pod['spec'] as Obj | undefined)?.['enableServiceLinks'] !== false,
      ) ?? {};
    try {
      env = await resolveEnv(
        { ...pod, status: { ...((pod['status'] ?? {}) as Obj), podIP: at.podIP, hostIP: this.config.nodeIP } },
        c,
        at.lookup,
        services,
      );
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      this.setWaiting(uid, name, { reason: 'CreateContainerConfigError', message: err.message });
      this.events.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return 5000;
    }
    const attempt = nextAttempt(pod, name, type === 'init', start.latest);
    const identity = {
      uid,
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      containerName: name,
      attempt,
      type,
      specHash: containerHash(c),
    } as const;
    try {
      const id = await this.runtime.createContainer(
        at.sandboxId,
        identity,
        containerConfig(pod, c, {
          env,
          volumes: at.volumes,
          resolvConf: writePodResolvConf(this.config.rootDir, pod, this.config.dns),
        }),
      );
      this.events.event(pod, 'Normal', 'Created', `Created container ${name}`);
      await this.runtime.start(id);
      this.events.event(pod, 'Normal', 'Started', `Started container ${name}`);
    } catch (err) {
      this.setWaiting(uid, name, {
        reason: 'CreateContainerError',
        message: err instanceof Error ? err.message : String(err),
      });
      this.events.event(pod, 'Warning', 'Failed', `Error: ${err instanceof Error ? err.message : String(err)}`);
      return 5000;
    }
    this.setWaiting(uid, name, undefined);
    // Keep the previous attempt (for --previous logs and lastState); older ones go.
    const attempts = (await this.runtime.listManaged(uid)).filter(
      (x) => x.identity.containerName === name && x.identity.type === type,
    );
    for (const old of attempts) if (old.identity.attempt < attempt - 1) await this.runtime.remove(old.id);
    return 1000;
  }

  private async writeStatus(
    pod: KubeObject,
    podIP: string | undefined,
    containers: PodObservation['containers'],
  ): Promise<void> {
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
      await this.client.patch(
        PODS,
        pod.metadata.name ?? '',
        'merge',
        { status },
        { namespace: pod.metadata.namespace, subresource: 'status' },
      );
      this.lastStatus.set(uid, status);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
