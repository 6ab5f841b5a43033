// Bringing one pod's containers in line with its spec (the kubelet's SyncPod): pod-actions.ts
// decides what to do from what runs; this executor does it over the runtime interface: the
// sandbox (pod-sandbox.ts), kills, probes, volumes, container starts (container-start.ts:
// pulls, env, config, create and start), the status written back to the API
// (pod-status-reporter.ts), and graceful termination. Level-based: every call does the next step.

import { mustFind } from '../api/registry.js';
import type { Pod } from '../api/types/index.js';
import type { EventSink } from '../client/index.js';
import type { PodApi } from './pod-api.js';
import { isConflict, isNotFound } from '../errors/index.js';
import { Backoff, type Clock } from './backoff.js';
import { ContainerStarter } from './container-start.js';
import { EphemeralContainers } from './ephemeral-containers.js';
import { ObjectLookup } from './env.js';
import {
  computePodActions,
  containersOf,
  ms,
  observationOf,
  type PodActions,
  type PodObservation,
} from './pod-actions.js';
import { PodSandboxes } from './pod-sandbox.js';
import { PodStatusReporter, type ProbeResults } from './pod-status-reporter.js';
import type { ContainerRuntime } from './runtime/index.js';
import { prepareVolumes, removePodDir, VolumeError } from './volumes.js';
import { PodTokens } from './service-account-token.js';
import type { ClusterDns } from './pod-dns.js';
import { ImagePuller } from './image-puller.js';

export type { ProbeResults } from './pod-status-reporter.js';

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

/** What pod sync works with: the API, the runtime, the probes, the event sink and the clock. */
export interface PodSyncDeps {
  client: PodApi;
  runtime: ContainerRuntime;
  probes: ProbeResults;
  events: EventSink;
  clock: Clock;
}

const PODS = mustFind('', 'v1', 'pods');

/** The grace period a pod's containers get to stop (Kubernetes' default: 30 s). */
function terminationGrace(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export class PodSyncer {
  private readonly crashBackoff = new Backoff();
  private readonly images: ImagePuller;
  private readonly status: PodStatusReporter;
  private readonly sandboxes: PodSandboxes;
  private readonly starter: ContainerStarter;
  private readonly ephemeral: EphemeralContainers;
  private readonly client: PodApi;
  private readonly runtime: ContainerRuntime;
  readonly probes: ProbeResults;
  private readonly events: EventSink;
  private readonly clock: Clock;
  private readonly tokens: PodTokens;

  constructor(
    private readonly config: PodSyncConfig,
    deps: PodSyncDeps,
  ) {
    const { client, runtime, probes, events, clock } = deps;
    this.client = client;
    this.runtime = runtime;
    this.probes = probes;
    this.events = events;
    this.clock = clock;
    this.tokens = new PodTokens(client, clock);
    this.images = new ImagePuller(runtime, events, clock);
    this.status = new PodStatusReporter({ client, probes, clock, nodeIP: config.nodeIP });
    this.sandboxes = new PodSandboxes({ config, runtime, events });
    const { crashBackoff, images, status } = this;
    this.starter = new ContainerStarter({ config, runtime, events, images, crashBackoff, status, clock });
    this.ephemeral = new EphemeralContainers({ config, runtime, events, clock, status });
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

  /** Stops and removes everything of a pod (SIGTERM, grace, SIGKILL), then its files. */
  async killPod(uid: string, graceSeconds: number, pod?: Pod): Promise<void> {
    this.probes.stop(uid);
    const { sandboxes, containers } = await this.observe(uid);
    const running = [...containers.values()].flat().filter((c) => c.running);
    await Promise.all(
      running.map(async (c) => {
        if (pod) this.events.normal(pod, 'Killing', `Stopping container ${c.identity.containerName}`);
        await this.runtime.stop(c.id, graceSeconds);
      }),
    );
    for (const c of [...containers.values()].flat()) await this.runtime.remove(c.id);
    for (const s of sandboxes) {
      await this.runtime.stop(s.id, 0);
      await this.runtime.remove(s.id);
    }
    this.crashBackoff.forget(`${uid}/`);
    this.starter.forget(uid);
    this.images.forget(uid);
    this.ephemeral.forget(uid);
    this.status.forget(uid);
    this.tokens.forget(uid);
    removePodDir(this.config.rootDir, uid);
  }

  async sync(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? '';
    if (pod.metadata.deletionTimestamp !== undefined) {
      await this.finishDeletion(pod);
      return {};
    }
    let observed = await this.observe(uid);
    let actions = this.plan(pod, observed);
    if (actions.finished) {
      for (const s of observed.sandboxes) if (s.running) await this.runtime.stop(s.id, 0);
      return {};
    }
    if (actions.createSandbox) {
      if (!(await this.sandboxes.recreate(pod, observed, actions.sandboxAttempt))) return { requeueAfterMs: 5000 };
      observed = await this.observe(uid);
      actions = this.plan(pod, observed);
    }
    const sandbox = observed.sandboxes.find((s) => s.running);
    if (sandbox === undefined || actions.createSandbox) return { requeueAfterMs: 1000 };
    const podIP = pod.spec?.hostNetwork === true ? this.config.nodeIP : sandbox.ip;
    const result: SyncResult = {};
    const requeue = (after: number): void => {
      result.requeueAfterMs = Math.min(result.requeueAfterMs ?? after, after);
    };

    let volumes: Map<string, string>;
    try {
      volumes = await prepareVolumes(pod, this.client, { rootDir: this.config.rootDir, tokens: this.tokens });
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      for (const c of [...containersOf(pod, 'initContainers'), ...containersOf(pod, 'containers')]) {
        this.status.setWaiting(uid, c.name, {
          reason: err.waiting?.reason ?? 'CreateContainerConfigError',
          message: err.message,
        });
      }
      this.events.warning(pod, 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
      await this.status.write(pod, podIP, observed.containers);
      return { requeueAfterMs: err.waiting?.retryAfterMs ?? 5000 };
    }
    for (const name of actions.settled) this.status.setWaiting(uid, name, undefined);
    for (const b of actions.backOff) {
      this.status.setWaiting(uid, b.name, { reason: 'CrashLoopBackOff', message: b.message });
      this.events.warning(
        pod,
        'BackOff',
        `Back-off restarting failed container ${b.name} in pod ${pod.metadata.name ?? ''}`,
      );
      requeue(b.remainingMs);
    }
    for (const k of actions.containersToKill) {
      this.events.normal(pod, 'Killing', k.message);
      this.probes.stop(uid, k.name);
      await this.runtime.stop(k.id, terminationGrace(pod));
      requeue(0);
    }
    this.ensureProbes(uid, podIP, actions.running);
    const lookup = new ObjectLookup(this.client, pod.metadata.namespace ?? 'default');
    for (const start of actions.containersToStart) {
      requeue(await this.starter.start(pod, start, { sandboxId: sandbox.id, volumes, lookup, podIP }));
    }
    const site = { sandboxId: sandbox.id, volumes, lookup, podIP, observed: observed.containers };
    const ephemeralAgain = await this.ephemeral.sync(pod, site);
    if (ephemeralAgain !== undefined) requeue(ephemeralAgain);
    const fresh = await this.observe(uid);
    await this.status.write(pod, podIP, fresh.containers);
    return result;
  }

  /** Kills what runs of a pod being deleted, then completes the deletion the apiserver staged. */
  private async finishDeletion(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const grace = pod.metadata.deletionGracePeriodSeconds ?? terminationGrace(pod);
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
  }

  /** Makes sure the probe workers of the running containers run. */
  private ensureProbes(uid: string, podIP: string | undefined, running: PodActions['running']): void {
    for (const r of running) {
      for (const kind of ['startup', 'liveness', 'readiness'] as const) {
        const probe = r.container[`${kind}Probe`];
        if (!probe) continue;
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
  }

  private plan(pod: Pod, observed: PodObservation): PodActions {
    const uid = pod.metadata.uid ?? '';
    return computePodActions(pod, observed, {
      now: this.clock.now(),
      probeResult: (name, kind) => this.probes.result(uid, name, kind),
      backoffRemaining: (name, finishedAt, now) => this.crashBackoff.remaining(`${uid}/${name}`, finishedAt, now),
      backoffDelay: (name) => this.crashBackoff.delay(`${uid}/${name}`),
    });
  }
}
