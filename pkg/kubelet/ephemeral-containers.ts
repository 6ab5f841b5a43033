// Ephemeral containers (`kubectl debug POD --image=…`): started once in the running pod's
// sandbox, sharing its network and IPC namespaces (and, with targetContainerName, the target's
// PID namespace), and never restarted, as Kubernetes' kubelet does. Their statuses are
// computed with the other containers' (pod-status.ts) and reported as
// `status.ephemeralContainerStatuses`.

import type { EphemeralContainer, Pod } from '../api/types/index.js';
import type { EventSink } from '../client/index.js';
import { errorMessage } from '../errors/index.js';
import type { Clock } from './backoff.js';
import { containerConfig } from './container-config.js';
import type { ContainerStartConfig, StartSite } from './container-start.js';
import { EnvError, resolveEnv } from './env.js';
import { ImagePuller } from './image-puller.js';
import { containerHash, type PodObservation } from './pod-actions.js';
import { writePodResolvConf } from './pod-resolv-conf.js';
import type { PodStatusReporter } from './pod-status-reporter.js';
import type { ContainerRuntime } from './runtime/index.js';

export interface EphemeralContainerDeps {
  config: ContainerStartConfig;
  runtime: ContainerRuntime;
  events: EventSink;
  clock: Clock;
  status: PodStatusReporter;
}

/** The ephemeral containers of a pod that have not run yet: none of its attempts exists or was reported. */
export function ephemeralContainersToStart(
  pod: Pod,
  observed: ReadonlyMap<string, readonly unknown[]>,
): EphemeralContainer[] {
  const reported = new Map((pod.status?.ephemeralContainerStatuses ?? []).map((s) => [s.name, s]));
  return (pod.spec?.ephemeralContainers ?? []).filter((c) => {
    if ((observed.get(c.name) ?? []).length > 0) return false;
    // Once it ran (a container ID was reported), it never runs again, even in a new sandbox.
    const status = reported.get(c.name);
    return status?.containerID === undefined && status?.state?.terminated === undefined;
  });
}

export class EphemeralContainers {
  private readonly images: ImagePuller;

  constructor(private readonly deps: EphemeralContainerDeps) {
    this.images = new ImagePuller(deps.runtime, deps.events, deps.clock);
  }

  /** Starts what has not run yet; returns when to look again (ms), undefined when nothing waits. */
  async sync(pod: Pod, at: StartSite & { observed: PodObservation['containers'] }): Promise<number | undefined> {
    let again: number | undefined;
    for (const c of ephemeralContainersToStart(pod, at.observed)) {
      const after = await this.start(pod, c, at);
      if (after !== undefined) again = Math.min(again ?? after, after);
    }
    return again;
  }

  forget(uid: string): void {
    this.images.forget(uid);
  }

  private async start(pod: Pod, c: EphemeralContainer, at: StartSite): Promise<number | undefined> {
    const { config, runtime, events, status } = this.deps;
    const uid = pod.metadata.uid ?? '';
    const hold = await this.images.pull(pod, c);
    if (hold !== undefined) {
      status.setWaiting(uid, c.name, hold.waiting);
      return hold.retryAfterMs;
    }
    try {
      const services = config.serviceEnv?.(pod.metadata.namespace ?? 'default', pod.spec?.enableServiceLinks !== false);
      const env = await resolveEnv({ ...pod, status: { ...pod.status, podIP: at.podIP, hostIP: config.nodeIP } }, c, {
        lookup: at.lookup,
        services: services ?? {},
      });
      const spec = containerConfig(pod, c, {
        env,
        volumes: at.volumes,
        resolvConf: writePodResolvConf(config.rootDir, pod, config.dns),
      });
      const target = c.targetContainerName;
      if (target !== undefined && target !== '') {
        const running = (await runtime.listManaged(uid)).find(
          (x) => x.identity.containerName === target && x.identity.type !== 'sandbox' && x.running,
        );
        if (running === undefined) {
          status.setWaiting(uid, c.name, {
            reason: 'ContainerCreating',
            message: `target container ${target} is not running`,
          });
          return 2000;
        }
        spec.pidNamespaceOf = running.id;
      }
      const identity = {
        uid,
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        containerName: c.name,
        attempt: 0,
        type: 'ephemeral',
        specHash: containerHash(c),
      } as const;
      const id = await runtime.createContainer(at.sandboxId, identity, spec);
      events.normal(pod, 'Created', `Created container ${c.name}`);
      await runtime.start(id);
      events.normal(pod, 'Started', `Started container ${c.name}`);
      status.setWaiting(uid, c.name, undefined);
      return 500;
    } catch (err) {
      const reason = err instanceof EnvError ? 'CreateContainerConfigError' : 'CreateContainerError';
      status.setWaiting(uid, c.name, { reason, message: errorMessage(err) });
      events.warning(pod, 'Failed', `Error: ${errorMessage(err)}`);
      return 5000;
    }
  }
}
