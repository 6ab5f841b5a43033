// coxctl cordon / uncordon / drain: mark a node (un)schedulable; drain also evicts its pods
// through the pods/eviction subresource (DaemonSet pods are left with --ignore-daemonsets,
// as kubectl does) and waits until they are gone.

import { controllerOf } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { Pod } from '../../api/types/index.js';
import { errorMessage, isNotFound, isTooManyRequests } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';

const NODES = RESOURCES.nodes;
const PODS = RESOURCES.pods;

export async function runCordon(ctx: CliContext, node: string, unschedulable: boolean): Promise<void> {
  const current = await ctx.client().get(NODES, node);
  const already = current.spec?.unschedulable === true;
  if (already === unschedulable) {
    ctx.out(`node/${node} already ${unschedulable ? 'cordoned' : 'uncordoned'}`);
    return;
  }
  await ctx
    .client()
    .patch(NODES, node, { type: 'strategic', body: { spec: { unschedulable: unschedulable ? true : null } } });
  ctx.out(`node/${node} ${unschedulable ? 'cordoned' : 'uncordoned'}`);
}

export async function runDrain(
  ctx: CliContext,
  node: string,
  flags: { ignoreDaemonsets?: boolean; timeout?: number; force?: boolean },
): Promise<void> {
  await runCordon(ctx, node, true);
  const client = ctx.client();
  const pods = (
    await client.list(PODS, { fieldSelector: `spec.nodeName=${node},status.phase!=Succeeded,status.phase!=Failed` })
  ).items;
  const daemon = pods.filter((p) => controllerOf(p)?.kind === 'DaemonSet');
  const unmanaged = pods.filter((p) => controllerOf(p) === undefined);
  if (daemon.length > 0 && !flags.ignoreDaemonsets) {
    throw new CliError(
      `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${daemon.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`).join(', ')}`,
    );
  }
  if (unmanaged.length > 0 && !flags.force) {
    throw new CliError(
      `cannot delete Pods that declare no controller (use --force to override): ${unmanaged.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`).join(', ')}`,
    );
  }
  // kubectl's warnings, on stderr, joined in the order its filters run.
  const names = (list: Pod[]): string =>
    list.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`).join(', ');
  const warnings = [
    ...(daemon.length > 0 ? [`ignoring DaemonSet-managed Pods: ${names(daemon)}`] : []),
    ...(unmanaged.length > 0 ? [`deleting Pods that declare no controller: ${names(unmanaged)}`] : []),
  ];
  if (warnings.length > 0) ctx.err(`Warning: ${warnings.join('; ')}`);
  const victims = pods.filter((p) => controllerOf(p)?.kind !== 'DaemonSet');
  const deadline = Date.now() + (flags.timeout ?? 0) * 1000;
  for (const p of victims) {
    ctx.out(`evicting pod ${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`);
    for (let attempt = 0; ; attempt++) {
      try {
        await client.createSubresource(PODS, p.metadata.name ?? '', {
          subresource: 'eviction',
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
          },
          namespace: p.metadata.namespace,
        });
        break;
      } catch (err) {
        if (isNotFound(err)) break;
        if (!isTooManyRequests(err) || (flags.timeout && Date.now() > deadline) || attempt > 60) throw err;
        // A PodDisruptionBudget holds the pod for now: say so and ask again, as kubectl does.
        ctx.err(
          `error when evicting pods/"${p.metadata.name ?? ''}" -n "${p.metadata.namespace ?? ''}" (will retry after 5s): ${errorMessage(err)}`,
        );
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }
  for (const p of victims) await waitGone(ctx, p, { deadline, timeout: flags.timeout ?? 0 });
  ctx.out(`node/${node} drained`);
}

/** Waits until `pod` is gone, failing once `limit.deadline` has passed (if `limit.timeout` is not 0). */
async function waitGone(ctx: CliContext, pod: Pod, limit: { deadline: number; timeout: number }): Promise<void> {
  const { deadline, timeout } = limit;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    try {
      const cur = await ctx.client().get(PODS, pod.metadata.name ?? '', { namespace: pod.metadata.namespace });
      if (cur.metadata.uid !== pod.metadata.uid) break;
    } catch (err) {
      if (isNotFound(err)) break;
      throw err;
    }
    if (timeout > 0 && Date.now() > deadline) throw new CliError(`drain did not complete within ${timeout}s`);
    await new Promise((r) => setTimeout(r, delay));
  }
  ctx.out(`pod/${pod.metadata.name ?? ''} evicted`);
}
