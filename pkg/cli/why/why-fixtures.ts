// Pod, event and node fixtures for the `coxctl why` unit tests, shaped as Coxswain's
// scheduler, node agent and node lifecycle controller write them.

import type { ContainerStatus, Event, Node, Pod } from '../../api/index.js';

export const NOW = new Date('2026-11-30T12:00:00Z');
export const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();

export function pod(
  extra: { spec?: Partial<NonNullable<Pod['spec']>>; status?: Pod['status']; name?: string } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: extra.name ?? 'web-1', namespace: 'default', uid: 'u1' },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'app', image: 'busybox:latest' }],
      ...extra.spec,
    },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

export function container(s: Partial<ContainerStatus>): ContainerStatus {
  return { name: 'app', ready: false, restartCount: 0, image: 'busybox:latest', imageID: '', ...s };
}

export function event(reason: string, message: string, extra: Partial<Event> = {}): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `e-${reason}`, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
    reason,
    message,
    type: 'Warning',
    lastTimestamp: ago(5),
    ...extra,
  };
}

export function readyNode(ready = true): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    status: {
      conditions: [
        ready
          ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
          : {
              type: 'Ready',
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastHeartbeatTime: ago(90),
            },
      ],
    },
  };
}

export const running = (ready: boolean): Pod['status'] => ({
  phase: 'Running',
  conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  containerStatuses: [container({ ready, state: { running: { startedAt: ago(60) } } })],
});
