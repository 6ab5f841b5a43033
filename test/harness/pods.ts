// Small readers of typed pods for tests: a container's status, readiness, phase.

import type { KubeObject } from '../../pkg/api/meta.js';
import { RESOURCES, type ContainerStatus, type Pod } from '../../pkg/api/index.js';
import type { RestClient } from '../../pkg/client/index.js';
import { eventually } from './clients.js';

/** The status of the pod's container `name`, if the agent has reported one. */
export function containerStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === name);
}

/** The pod's Ready condition is True. */
export function hasReadyCondition(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isRunning(pod: Pod): boolean {
  return pod.status?.phase === 'Running';
}

/** Not being deleted (no deletionTimestamp yet). */
export function isLive(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp === undefined;
}

/** A busybox pod bound to a node that runs `script`; resolves once it is Running. */
export async function startBusyboxPod(
  client: RestClient,
  pod: { name: string; namespace: string; nodeName: string },
  script: string,
): Promise<void> {
  const body: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name },
    spec: {
      nodeName: pod.nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script] },
      ],
    },
  };
  await client.create(RESOURCES.pods, body, { namespace: pod.namespace });
  const read = (): Promise<Pod> => client.get(RESOURCES.pods, pod.name, { namespace: pod.namespace });
  await eventually(async () => isRunning(await read()), {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: `${pod.name} running`,
  });
}

/** The script of a container that prints `tick N` every 0.3 s. */
export const TICKING = 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done';
