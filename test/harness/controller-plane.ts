// For controller tests below end to end: a real apiserver and a controller-manager running
// only the controllers under test, no scheduler or agent. The test plays their part: it binds
// pods and writes pod status the way a scheduler and a kubelet would.

import { after, before } from 'node:test';
import { isObject, rfc3339, type KubeObject } from '../../pkg/api/meta.js';
import { resourcePath, type ResourceInfo } from '../../pkg/api/registry.js';
import type { RestClient } from '../../pkg/client/index.js';
import { isNotFound } from '../../pkg/errors/index.js';
import { adminClient, R, resource } from './clients.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';

/** Resources the controllers own that the shared table (clients.ts) does not name. */
export const CR = {
  ...R,
  serviceaccounts: resource('', 'v1', 'serviceaccounts'),
  daemonsets: resource('apps', 'v1', 'daemonsets'),
  statefulsets: resource('apps', 'v1', 'statefulsets'),
  jobs: resource('batch', 'v1', 'jobs'),
  cronjobs: resource('batch', 'v1', 'cronjobs'),
  leases: resource('coordination.k8s.io', 'v1', 'leases'),
  csrs: resource('certificates.k8s.io', 'v1', 'certificatesigningrequests'),
};

export interface ControllerPlane {
  readonly plane: ControlPlane;
  readonly client: RestClient;
}

/**
 * Registers before/after hooks that start one control plane for the test file, its
 * controller-manager running only `controllers` (plus `args`), and stop it afterwards.
 */
export function useControllerPlane(controllers: readonly string[], args: readonly string[] = []): ControllerPlane {
  let plane: ControlPlane | undefined;
  let client: RestClient | undefined;
  before(async () => {
    plane = await startControlPlane({
      withControllers: true,
      controllerManagerArgs: ['--controllers', controllers.join(','), ...args],
    });
    client = adminClient(plane);
  });
  after(async () => {
    client?.close();
    await plane?.stop();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('control plane not started (use inside a test)');
    return v;
  };
  return {
    get plane() {
      return started(plane);
    },
    get client() {
      return started(client);
    },
  };
}

export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** A one-container pod spec (never run: there is no agent). */
export function podSpec(): Record<string, unknown> {
  return { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] };
}

/** The pod template of a workload: labels `app=<app>`, the spec above plus `extra`. */
export function template(app: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: { labels: { app } }, spec: { ...podSpec(), ...extra } };
}

/** Pods of `app` in `namespace` not being deleted, by name. */
export async function livePods(client: RestClient, namespace: string, app: string): Promise<KubeObject[]> {
  const list = await client.list(R.pods, { namespace, labelSelector: `app=${app}` });
  return list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** What the scheduler does: binds the pod to `node` through pods/binding. */
export async function bindPod(
  client: RestClient,
  name: string,
  to: { namespace: string; node: string },
): Promise<void> {
  const { namespace, node } = to;
  await client.requestJson({
    method: 'POST',
    path: resourcePath(R.pods, { namespace, name, subresource: 'binding' }),
    body: {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    },
  });
}

export interface PodState {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready?: boolean;
  podIP?: string;
}

/** What a kubelet does: writes phase, Ready condition and pod IP through pods/status. */
export async function setPodStatus(
  client: RestClient,
  name: string,
  state: PodState & { namespace: string },
): Promise<void> {
  const { namespace } = state;
  const at = rfc3339(new Date());
  const ready = state.ready === true ? 'True' : 'False';
  const status: Record<string, unknown> = {
    phase: state.phase,
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
      { type: 'Ready', status: ready, lastTransitionTime: at },
      { type: 'ContainersReady', status: ready, lastTransitionTime: at },
    ],
    ...(state.podIP !== undefined ? { podIP: state.podIP, podIPs: [{ ip: state.podIP }] } : {}),
  };
  await client.patch(R.pods, name, { type: 'merge', body: { status }, namespace, subresource: 'status' });
}

/** Scheduler and kubelet for one pod: bound to `node` if not yet, then Running and Ready. */
export async function runPod(client: RestClient, pod: KubeObject, node: string): Promise<void> {
  const namespace = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name ?? '';
  const nodeName = field(pod, 'spec', 'nodeName');
  if (typeof nodeName !== 'string' || nodeName === '') await bindPod(client, name, { namespace, node });
  await setPodStatus(client, name, { namespace, phase: 'Running', ready: true });
}

export function isPodReady(pod: KubeObject): boolean {
  return conditionStatus(pod, 'Ready') === 'True';
}

/** Whether the object is gone from the store (not merely being deleted). */
export async function isGone(
  client: RestClient,
  r: ResourceInfo,
  at: { name: string; namespace?: string },
): Promise<boolean> {
  const { name, namespace } = at;
  try {
    await client.get(r, name, namespace !== undefined ? { namespace } : {});
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

/** `status` of an object as a plain record (controllers write it; tests read counts from it). */
export function statusOf(obj: KubeObject): Record<string, unknown> {
  const s = obj['status'];
  return isObject(s) ? { ...s } : {};
}

/** The status of condition `type` in the object's status.conditions, if it has one. */
export function conditionStatus(obj: KubeObject, type: string): string | undefined {
  const found = items(field(obj, 'status', 'conditions')).find((c) => field(c, 'type') === type);
  const status = field(found, 'status');
  return typeof status === 'string' ? status : undefined;
}

/** A number field of status (0 when absent, as Kubernetes omits zero counts). */
export function statusCount(obj: KubeObject, field: string): number {
  const v = statusOf(obj)[field];
  return typeof v === 'number' ? v : 0;
}

/** The value at `path` inside a decoded object (undefined where the path does not lead). */
export function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (!isObject(at)) return undefined;
    at = at[key];
  }
  return at;
}

/** `value` if it is an array, else none. */
export function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
