// Starting the next attempt of one container of a pod: the image pull (with its back-off),
// the environment, the container config (volumes, resolv.conf), create and start, the events,
// and pruning attempts older than the previous one.

import type { Pod } from '../api/types/index.js';
import type { EventSink } from '../client/index.js';
import type { Backoff } from './backoff.js';
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
}

/** Where in the pod the container goes: its sandbox, its volumes, its IP. */
export interface StartSite {
  sandboxId: string;
  volumes: Map<string, string>;
  lookup: ObjectLookup;
  podIP: string | undefined;
}

export class ContainerStarter {
  constructor(private readonly deps: ContainerStarterDeps) {}

  /** Pulls the image (honouring its back-off), then creates and starts the next attempt; when to look again (ms). */
  async start(pod: Pod, start: ContainerStart, at: StartSite): Promise<number> {
    const { config, runtime, events, status } = this.deps;
    const uid = pod.metadata.uid ?? '';
    const { name, container: c, type } = start;
    const key = `${uid}/${name}`;
    if (start.ranForMs !== undefined) this.deps.crashBackoff.restarted(key, start.ranForMs);
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
      status.setWaiting(uid, name, { reason: 'CreateContainerConfigError', message: err.message });
      events.warning(pod, 'Failed', `Error: ${err.message}`);
      return 5000;
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
    try {
      const id = await runtime.createContainer(
        at.sandboxId,
        identity,
        containerConfig(pod, c, {
          env,
          volumes: at.volumes,
          resolvConf: writePodResolvConf(config.rootDir, pod, config.dns),
        }),
      );
      events.normal(pod, 'Created', `Created container ${name}`);
      await runtime.start(id);
      events.normal(pod, 'Started', `Started container ${name}`);
    } catch (err) {
      status.setWaiting(uid, name, {
        reason: err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError',
        message: errorMessage(err),
      });
      events.warning(pod, 'Failed', `Error: ${errorMessage(err)}`);
      return 5000;
    }
    status.setWaiting(uid, name, undefined);
    // Keep the previous attempt (for --previous logs and lastState); older ones go.
    const attempts = (await runtime.listManaged(uid)).filter(
      (x) => x.identity.containerName === name && x.identity.type === type,
    );
    for (const old of attempts) if (old.identity.attempt < attempt - 1) await runtime.remove(old.id);
    return 1000;
  }
}
