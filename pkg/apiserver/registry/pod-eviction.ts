// pods/eviction: a delete that honours PodDisruptionBudgets, as Kubernetes' eviction REST does.
// Pods not yet running, finished or already terminating go at once; a pod no budget selects
// goes at once; an unready pod goes without spending the budget while its policy allows;
// otherwise the budget's disruptionsAllowed is decremented with a compare-and-swap on its
// status (the pod recorded in disruptedPods), or the eviction is refused with 429. The pod
// gets the DisruptionTarget condition before it is deleted.

import {
  decrementBudget,
  evictsFreely,
  guardingBudget,
  isObject,
  rfc3339,
  unhealthyPodBypassesBudget,
  type Pod,
  type PodCondition,
} from '../../api/index.js';
import { RESOURCES } from '../../api/registry.js';
import { badRequest } from '../../errors/index.js';
import { deleteOptions, dryRunFromQuery, isDryRun } from '../request-options.js';
import { storedAs } from '../write-meta.js';
import type { SubresourceCall, SubresourceReply } from './types.js';

function created(): SubresourceReply {
  return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
}

/** The condition a pod evicted through the API carries while it terminates. */
function disruptionTarget(now: Date): PodCondition {
  return {
    type: 'DisruptionTarget',
    status: 'True',
    reason: 'EvictionByEvictionAPI',
    message: 'Eviction API: evicting',
    lastTransitionTime: rfc3339(now),
  };
}

/** Marks the pod as a disruption target (unless it already finished), then deletes it. */
async function markAndDelete(call: SubresourceCall, pod: Pod, opts: ReturnType<typeof deleteOptions>): Promise<void> {
  const ref = { namespace: call.namespace, name: call.name };
  const phase = pod.status?.phase;
  if (!isDryRun(opts) && phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata.deletionTimestamp === undefined) {
    const condition = disruptionTarget(call.store.now());
    await call.store.guaranteedUpdate(RESOURCES.pods, ref, {
      subresource: 'status',
      mutate: (current) => {
        const live = storedAs(RESOURCES.pods, current);
        const status = live.status ?? {};
        const others = (status.conditions ?? []).filter((c) => c.type !== condition.type);
        live.status = { ...status, conditions: [...others, condition] };
        return live;
      },
    });
  }
  await call.store.delete(RESOURCES.pods, ref, opts);
}

export async function evictPod(call: SubresourceCall): Promise<SubresourceReply> {
  const body = call.body;
  if (body !== undefined && !isObject(body)) throw badRequest('the body of an eviction must be an Eviction object');
  const named = isObject(body) && isObject(body['metadata']) ? body['metadata']['name'] : undefined;
  if (named !== undefined && named !== '' && named !== call.name)
    throw badRequest('name in URL does not match name in Eviction object');
  const opts = deleteOptions(call.query, isObject(body) ? (body['deleteOptions'] ?? undefined) : undefined);
  // dryRun may come in the query (CreateOptions of the eviction) as well as in its deleteOptions.
  if (dryRunFromQuery(call.query, 'CreateOptions') && !isDryRun(opts)) opts.dryRun = ['All'];
  const namespace = call.namespace ?? '';
  const pod = await call.store.get(RESOURCES.pods, namespace, call.name);
  if (evictsFreely(pod)) {
    await markAndDelete(call, pod, opts);
    return created();
  }
  const budgets = await call.store.list(RESOURCES.poddisruptionbudgets, namespace, {});
  const pdb = guardingBudget(pod, budgets.items);
  if (pdb === undefined || unhealthyPodBypassesBudget(pod, pdb)) {
    await markAndDelete(call, pod, opts);
    return created();
  }
  const now = call.store.now();
  const eviction = { podName: call.name, now, dryRun: isDryRun(opts) };
  if (eviction.dryRun) decrementBudget(pdb, eviction);
  else
    await call.store.guaranteedUpdate(
      RESOURCES.poddisruptionbudgets,
      { namespace, name: pdb.metadata.name ?? '' },
      {
        subresource: 'status',
        // Read again on every attempt: the decision is made on the budget the swap replaces.
        mutate: (current) => decrementBudget(storedAs(RESOURCES.poddisruptionbudgets, current), eviction),
      },
    );
  await markAndDelete(call, pod, opts);
  return created();
}
