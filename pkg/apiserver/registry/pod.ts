// Pods: created Pending, deleted gracefully (a scheduled pod waits for its node agent), and
// the subresources binding (the scheduler's assignment), eviction (pod-eviction.ts), log and status.

import { isObject, rfc3339, type KubeObject } from '../../api/meta.js';
import { conflict, invalid } from '../../errors/index.js';
import { podLogOptions, podLogQuery } from '../../api/pod-log-options.js';
import { clearDeletion, defaultStrategy, keepIdentity, keepStatus, stageFinalizers } from './default.js';
import { objectAt } from './fields.js';
import { EPHEMERAL_CONTAINERS } from './pod-ephemeral-containers.js';
import { evictPod } from './pod-eviction.js';
import type { Strategy, SubresourceCall, SubresourceReply } from './types.js';

/**
 * How long a pod's deletion waits for the node agent to stop it. Unscheduled and finished
 * pods go at once; others wait their grace period (the agent completes the delete).
 */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = objectAt(pod, 'spec');
  const phase = objectAt(pod, 'status')['phase'];
  if (typeof spec['nodeName'] !== 'string' || spec['nodeName'] === '') return 0;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const own = spec['terminationGracePeriodSeconds'];
  const grace = requested ?? (typeof own === 'number' ? own : 30);
  return Math.max(0, grace);
}

function created(): SubresourceReply {
  return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
}

/** pods/binding: assigns a pending pod to a node, once. */
async function bind(call: SubresourceCall): Promise<SubresourceReply> {
  const { body, name: podName } = call;
  if (
    !isObject(body) ||
    !isObject(body['target']) ||
    typeof body['target']['name'] !== 'string' ||
    body['target']['name'] === ''
  ) {
    throw invalid({ kind: 'Binding', group: '' }, podName, [
      { reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' },
    ]);
  }
  const nodeName = body['target']['name'];
  const opts = call.options();
  await call.store.guaranteedUpdate(
    call.r,
    { namespace: call.namespace ?? '', name: podName },
    {
      ...opts,
      subresource: 'binding',
      mutate: (pod) => {
        const spec = objectAt(pod, 'spec');
        if (pod.metadata.deletionTimestamp !== undefined)
          throw conflict({ plural: 'pods', group: '' }, podName, 'pod is being deleted, cannot be assigned to a host');
        if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
          throw conflict(
            { plural: 'pods', group: '' },
            podName,
            `pod ${podName} is already assigned to node "${spec['nodeName']}"`,
          );
        }
        spec['nodeName'] = nodeName;
        pod['spec'] = spec;
        const status = objectAt(pod, 'status');
        const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []).filter(
          (c) => !(isObject(c) && c['type'] === 'PodScheduled'),
        );
        conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(call.store.now()) });
        pod['status'] = { ...status, conditions };
        return pod;
      },
    },
  );
  return created();
}

/** pods/log: streamed from the pod's node agent. */
async function logs(call: SubresourceCall): Promise<SubresourceReply> {
  // Checked here (400/422 before the agent is asked), relayed in canonical form.
  const opts = podLogOptions(call.query, call.name);
  const params = podLogQuery(opts);
  if (opts.container !== undefined) params.set('container', opts.container);
  await call.kubelets.logs({ namespace: call.namespace ?? '', podName: call.name, query: params }, call.res);
  return undefined;
}

export const podStrategy: Strategy = {
  ...defaultStrategy,
  prepareForCreate(_r, obj) {
    // Pods have no generation in Kubernetes (their spec is immutable but for a few fields).
    delete obj.metadata.generation;
    const status = objectAt(obj, 'status');
    obj['status'] = { phase: 'Pending', ...(status['qosClass'] !== undefined ? { qosClass: status['qosClass'] } : {}) };
    clearDeletion(obj);
  },
  prepareForUpdate(_r, next, prev) {
    keepIdentity(next, prev);
    keepStatus(next, prev);
    delete next.metadata.generation;
  },
  stageDeletion(obj, opts, now) {
    const meta = obj.metadata;
    const finalizers = stageFinalizers(obj, opts);
    const grace = podGracePeriod(obj, opts.gracePeriodSeconds);
    if (meta.deletionTimestamp !== undefined) {
      // Already terminating: a shorter grace period (e.g. the agent's final 0) takes effect.
      const old = meta.deletionGracePeriodSeconds ?? 0;
      if (grace < old) {
        meta.deletionGracePeriodSeconds = grace;
        meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
      }
      return !(grace === 0 && finalizers.length === 0);
    }
    if (grace > 0) {
      meta.deletionGracePeriodSeconds = grace;
      meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
      return true;
    }
    if (finalizers.length > 0) {
      meta.deletionGracePeriodSeconds = 0;
      meta.deletionTimestamp = rfc3339(now);
      return true;
    }
    return false;
  },
  // A pod with a grace period waits for its node agent to finish the delete.
  waitsAfterFinalizers: (obj) => (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0,
  returnsDeletedObject: true,
  subresources: {
    ...defaultStrategy.subresources,
    binding: { create: bind },
    eviction: { create: evictPod },
    log: { get: logs },
    ephemeralcontainers: EPHEMERAL_CONTAINERS,
  },
};
