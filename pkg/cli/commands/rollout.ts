// coxctl rollout status | history | undo | pause | resume | restart for Deployments, with
// the messages kubectl prints.

import { ownedByRevision, REVISION_ANNOTATION as REVISION, rollbackTemplate } from '../../api/deployment-rollback.js';
import { RESOURCES } from '../../api/registry.js';
import { labelSelectorToString } from '../../api/selectors.js';
import type { Deployment, ReplicaSet } from '../../api/types/index.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns } from '../output.js';

const DEPLOYMENTS = RESOURCES.deployments;
const REPLICASETS = RESOURCES.replicasets;

function target(arg: string): string {
  const m = arg.match(/^(deployment|deploy|deployments|deployment\.apps)\/(.+)$/);
  if (m === null) throw new CliError(`rollout supports deployments: use deployment/NAME (got "${arg}")`);
  return m[2] ?? '';
}

/** kubectl's DeploymentStatusViewer: a message and whether the rollout is done. */
export function rolloutStatus(d: Deployment): { done: boolean; message: string } {
  const st = d.status ?? {};
  const name = d.metadata.name ?? '';
  if ((d.metadata.generation ?? 0) > (st.observedGeneration ?? 0))
    return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  const progressing = (st.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    throw new CliError(`deployment "${name}" exceeded its progress deadline`);
  const want = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want)
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`,
    };
  if (total > updated)
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`,
    };
  if (available < updated)
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
    };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

async function ownedReplicaSets(ctx: CliContext, d: Deployment): Promise<ReplicaSet[]> {
  const sel = labelSelectorToString(d.spec?.selector);
  const list = await ctx
    .client()
    .list(REPLICASETS, { namespace: d.metadata.namespace, labelSelector: sel === '<none>' ? undefined : sel });
  return ownedByRevision(d, list.items);
}

export async function runRollout(
  ctx: CliContext,
  what: { action: string; deployment: string },
  flags: { toRevision?: string; timeout?: string },
): Promise<void> {
  const { action, deployment: arg } = what;
  const name = target(arg);
  const ns = ctx.namespace();
  const client = ctx.client();
  const d = await client.get(DEPLOYMENTS, name, { namespace: ns });
  switch (action) {
    case 'status': {
      const limit = flags.timeout ? Number(flags.timeout.replace(/s$/, '')) * 1000 : 0;
      const start = Date.now();
      let last = '';
      for (;;) {
        const cur = await client.get(DEPLOYMENTS, name, { namespace: ns });
        const s = rolloutStatus(cur);
        if (s.message !== last) ctx.out(s.message);
        last = s.message;
        if (s.done) return;
        if (limit > 0 && Date.now() - start > limit) throw new CliError('timed out waiting for the condition');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    case 'history': {
      const rows = [['REVISION', 'CHANGE-CAUSE']];
      for (const rs of await ownedReplicaSets(ctx, d))
        rows.push([
          rs.metadata.annotations?.[REVISION] ?? '0',
          rs.metadata.annotations?.['kubernetes.io/change-cause'] ?? '<none>',
        ]);
      ctx.out(`deployment.apps/${name} \n${formatColumns(rows)}`);
      return;
    }
    case 'undo': {
      const sets = await ownedReplicaSets(ctx, d);
      const rollback = rollbackTemplate(d, sets, { toRevision: flags.toRevision, cli: 'coxctl' });
      if ('refusal' in rollback) throw new CliError(rollback.refusal);
      await client.patch(DEPLOYMENTS, name, {
        type: 'json',
        body: [{ op: 'replace', path: '/spec/template', value: rollback.template }],
        namespace: ns,
      });
      ctx.out(`deployment.apps/${name} rolled back`);
      return;
    }
    case 'pause':
    case 'resume':
      await client.patch(DEPLOYMENTS, name, {
        type: 'strategic',
        body: { spec: { paused: action === 'pause' ? true : null } },
        namespace: ns,
      });
      ctx.out(`deployment.apps/${name} ${action === 'pause' ? 'paused' : 'resumed'}`);
      return;
    case 'restart':
      await client.patch(DEPLOYMENTS, name, {
        type: 'strategic',
        body: {
          spec: {
            template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } },
          },
        },
        namespace: ns,
      });
      ctx.out(`deployment.apps/${name} restarted`);
      return;
    default:
      throw new CliError(`unknown rollout command "${action}" (status, history, undo, pause, resume, restart)`);
  }
}
