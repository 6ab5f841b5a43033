// What pod sync reports of one pod: the waiting reasons it decided per container (back-off,
// config errors, pulls) and the status it last wrote, which it patches to the API only when
// the computed status changed.

import { mustFind } from '../api/registry.js';
import type { Pod } from '../api/types/index.js';
import { isNotFound } from '../errors/index.js';
import type { Clock } from './backoff.js';
import { containersOf, type PodObservation } from './pod-actions.js';
import type { PodApi } from './pod-api.js';
import { computePodStatus, statusChanged, type Waiting } from './pod-status.js';
import type { ProbeManager } from './probes.js';

/** The probes' verdicts and workers pod sync uses. */
export type ProbeResults = Pick<ProbeManager, 'ensure' | 'result' | 'stop' | 'stopAll'>;

export interface PodStatusReporterDeps {
  client: PodApi;
  probes: Pick<ProbeResults, 'result'>;
  clock: Clock;
  nodeIP: string;
}

const PODS = mustFind('', 'v1', 'pods');

export class PodStatusReporter {
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  private readonly lastStatus = new Map<string, unknown>();

  constructor(private readonly deps: PodStatusReporterDeps) {}

  /** Records (or, undefined, clears) why a container of the pod is waiting. */
  setWaiting(uid: string, name: string, w: Waiting | undefined): void {
    let m = this.waiting.get(uid);
    if (m === undefined) {
      m = new Map();
      this.waiting.set(uid, m);
    }
    if (w === undefined) m.delete(name);
    else m.set(name, w);
  }

  /** Drops what is remembered of a pod that is gone. */
  forget(uid: string): void {
    this.waiting.delete(uid);
    this.lastStatus.delete(uid);
  }

  /** Computes the pod's status from what runs and patches it when it changed. */
  async write(pod: Pod, podIP: string | undefined, containers: PodObservation['containers']): Promise<void> {
    const { client, probes, clock, nodeIP } = this.deps;
    const uid = pod.metadata.uid ?? '';
    const status = computePodStatus({
      pod,
      podIP,
      hostIP: nodeIP,
      containers,
      waiting: this.waiting.get(uid) ?? new Map(),
      ready: (name) => {
        const c = containersOf(pod, 'containers').find((x) => x.name === name);
        if (!c?.readinessProbe) return true;
        return probes.result(uid, name, 'readiness') === true;
      },
      started: (name) => {
        const c = containersOf(pod, 'containers').find((x) => x.name === name);
        if (!c?.startupProbe) return true;
        return probes.result(uid, name, 'startup') === true;
      },
      now: new Date(clock.now()),
    });
    if (!statusChanged(status, pod.status) || !statusChanged(status, this.lastStatus.get(uid))) return;
    try {
      await client.patch(PODS, pod.metadata.name ?? '', {
        type: 'merge',
        body: { status },
        namespace: pod.metadata.namespace,
        subresource: 'status',
      });
      this.lastStatus.set(uid, status);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
