// (Re)creating a pod's sandbox, the container holding its network namespace: what ran of the
// pod is stopped and the old sandboxes removed first.

import type { Pod } from '../api/types/index.js';
import type { EventSink } from '../client/index.js';
import type { PodObservation } from './pod-actions.js';
import type { ContainerRuntime } from './runtime/index.js';
import { errorMessage } from '../errors/index.js';

/** The node settings a sandbox start reads (pod sync's config; the network is set later). */
export interface SandboxConfig {
  sandboxImage: string;
  podNetwork: string;
  afterSandboxStart?: () => Promise<void>;
}

export interface SandboxDeps {
  config: SandboxConfig;
  runtime: ContainerRuntime;
  events: EventSink;
}

export class PodSandboxes {
  constructor(private readonly deps: SandboxDeps) {}

  /** Stops what runs of the pod and starts a new sandbox; false (and an event) if it failed. */
  async recreate(pod: Pod, observed: PodObservation, attempt: number): Promise<boolean> {
    const { config, runtime, events } = this.deps;
    for (const c of [...observed.containers.values()].flat()) if (c.running) await runtime.stop(c.id, 0);
    for (const s of observed.sandboxes) await runtime.remove(s.id);
    try {
      await runtime.ensureImage(config.sandboxImage, 'IfNotPresent');
      await runtime.runSandbox(
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
          image: config.sandboxImage,
          network: config.podNetwork,
          hostname: pod.spec?.hostname || (pod.metadata.name ?? '').slice(0, 63),
          hostNetwork: pod.spec?.hostNetwork === true,
          hostPID: pod.spec?.hostPID === true,
          hostIPC: pod.spec?.hostIPC === true,
        },
      );
      await config.afterSandboxStart?.();
      return true;
    } catch (err) {
      events.warning(pod, 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorMessage(err)}`);
      return false;
    }
  }
}
