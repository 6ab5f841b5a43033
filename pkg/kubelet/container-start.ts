// Starting the next attempt of one container of a pod: the image pull (with its back-off),
// the environment, the container config (volumes, resolv.conf), create and start, the events,
// and pruning attempts older than the previous one. A container that cannot be created or
// started (CreateContainerConfigError, CreateContainerError, a missing binary) backs off as
// a crash does: 10 s doubling to 5 min, with its reason shown while it waits.

import type { Pod } from '../api/types/index.js';
import type { EventSink } from '../client/index.js';
import type { Backoff, Clock } from './backoff.js';
import { containerConfig } from './container-config.js';
import { EnvError, resolveEnv, type ObjectLookup } from './env.js';
import type { ImagePuller } from './image-puller.js';
import { containerHash, type ContainerStart } from './pod-actions.js';
import type { ClusterDns } from './pod-dns.js';
import { writePodResolvConf } from './pod-resolv-conf.js';
import { nextAttempt } from './pod-status.js';
import type { PodStatusReporter } from './pod-status-reporter.js';
import { ContainerConfigError, type ContainerRuntime } from './runtime/index.js';
import { errorMessage } from '../errors/index.js';

/** The node settings a container start reads (pod sync's config; dns may change later). */
export interface ContainerStartConfig {
  nodeIP: string;
  rootDir: string;
  dns?: ClusterDns;
  serviceEnv?: (namespace: string, enableServiceLinks: boolean) => Record<string, string>;
}

export interface ContainerStarterDeps {
  config: ContainerStartConfig;
  runtime: ContainerRuntime;
  events: EventSink;
  images: ImagePuller;
  crashBackoff: Backoff;
  status: PodStatusReporter;
  clock: Clock;
}

/** Where in the pod the container goes: its sandbox, its volumes, its IP. */
export interface StartSite {
  sandboxId: string;
  volumes: Map<string, string>;
  lookup: ObjectLookup;
  podIP: string | undefined;
}

/** Why a container could not be created or started, as the kubelet reports it. */
type StartFailure = 'CreateContainerConfigError' | 'CreateContainerError' | 'RunContainerError';

export class ContainerStarter {
  /** When each container (`<pod uid>/<name>`) last failed to be created or started. */
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly deps: ContainerStarterDeps) {}

  /** Forgets a pod's failures (the pod is gone). */
  forget(uid: string): void {
    for (const key of [...this.failedAt.keys()]) if (key.startsWith(`${uid}/`)) this.failedAt.delete(key);
  }

  /** Pulls the image (honouring its back-off), then creates and starts the next attempt; when to look again (ms). */
  async start(pod: Pod, start: ContainerStart, at: StartSite): Promise<number> {
    const { config, runtime, events, status, crashBackoff, clock } = this.deps;
    const uid = pod.metadata.uid ?? '';
    const { name, container: c, type } = start;
    const key = `${uid}/${name}`;
    const lastFailure = this.failedAt.get(key);
    if (lastFailure !== undefined) {
      // The waiting reason of the failure stays; the next try waits out the back-off.
      const remaining = crashBackoff.remaining(key, lastFailure, clock.now());
      if (remaining > 0) {
        events.warning(
          pod,
          'BackOff',
          `Back-off restarting failed container ${name} in pod ${pod.metadata.name ?? ''}`,
        );
        return remaining;
      }
    }
    if (start.ranForMs !== undefined) crashBackoff.restarted(key, start.ranForMs);
    const hold = await this.deps.images.pull(pod, c);
    if (hold !== undefined) {
      status.setWaiting(uid, name, hold.waiting);
      return hold.retryAfterMs;
    }
    let env: string[];
    const services =
      config.serviceEnv?.(pod.metadata.namespace ?? 'default', pod.spec?.enableServiceLinks !== false) ?? {};
    try {
      env = await resolveEnv({ ...pod, status: { ...pod.status, podIP: at.podIP, hostIP: config.nodeIP } }, c, {
        lookup: at.lookup,
        services,
      });
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      return this.failed(pod, { name, reason: 'CreateContainerConfigError', message: err.message });
    }
    const attempt = nextAttempt(pod, start);
    const identity = {
      uid,
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      containerName: name,
      attempt,
      type,
      specHash: containerHash(c),
    } as const;
    let id: string;
    try {
      id = await runtime.createContainer(
        at.sandboxId,
        identity,
        containerConfig(pod, c, {
          env,
          volumes: at.volumes,
          resolvConf: writePodResolvConf(config.rootDir, pod, config.dns),
        }),
      );
    } catch (err) {
      const reason = err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError';
      return this.failed(pod, { name, reason, message: errorMessage(err) });
    }
    events.normal(pod, 'Created', `Created container ${name}`);
    try {
      await runtime.start(id);
    } catch (err) {
      // A missing binary, `exec format error`: the created attempt goes, the next one waits.
      await runtime.remove(id).catch(() => undefined);
      return this.failed(pod, { name, reason: 'RunContainerError', message: errorMessage(err) });
    }
    events.normal(pod, 'Started', `Started container ${name}`);
    this.failedAt.delete(key);
    status.setWaiting(uid, name, undefined);
    // Keep the previous attempt (for --previous logs and lastState); older ones go.
    const attempts = (await runtime.listManaged(uid)).filter(
      (x) => x.identity.containerName === name && x.identity.type === type,
    );
    for (const old of attempts) if (old.identity.attempt < attempt - 1) await runtime.remove(old.id);
    return 1000;
  }

  /** Records a failed create or start: the waiting reason, the `Failed` event, and the back-off before the next try. */
  private failed(pod: Pod, failure: { name: string; reason: StartFailure; message: string }): number {
    const { events, status, crashBackoff, clock } = this.deps;
    const { name, reason, message } = failure;
    const key = `${pod.metadata.uid ?? ''}/${name}`;
    status.setWaiting(pod.metadata.uid ?? '', name, { reason, message });
    events.warning(pod, 'Failed', `Error: ${message}`);
    crashBackoff.restarted(key, 0);
    const now = clock.now();
    this.failedAt.set(key, now);
    return crashBackoff.remaining(key, now, now);
  }
}
