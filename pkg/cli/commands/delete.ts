// coxctl delete: by type and names, by -f, or by -l; prints `deployment.apps "web" deleted`
// and, like kubectl, waits until the objects are gone unless --wait=false.

import type { KubeObject } from '../../api/meta.js';
import { qualifiedKindName, type ResourceInfo } from '../../api/registry.js';
import { errorMessage, isNotFound } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';
import { loadManifests } from '../manifests.js';
import { parseTargets } from './targets.js';

export interface DeleteFlags {
  filename?: string[];
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  ignoreNotFound?: boolean;
  wait: boolean;
  timeoutSeconds: number;
  cascade: string;
  gracePeriod?: number;
  force?: boolean;
}

interface Victim {
  resource: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

function propagation(cascade: string): 'Background' | 'Foreground' | 'Orphan' {
  switch (cascade) {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
    default:
      throw new CliError(`invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan"`);
  }
}

export async function runDelete(ctx: CliContext, args: string[], flags: DeleteFlags): Promise<void> {
  const client = ctx.client();
  const policy = propagation(flags.cascade);
  const victims: Victim[] = [];
  if (flags.filename && flags.filename.length > 0) {
    for (const m of loadManifests(flags.filename, ctx.io.readStdin)) {
      victims.push({
        resource: m.resource,
        namespace: m.resource.namespaced ? (m.object.metadata.namespace ?? ctx.namespace()) : undefined,
        name: m.object.metadata.name ?? '',
      });
    }
  } else {
    const targets = parseTargets(args);
    for (const t of targets) {
      const namespace = t.resource.namespaced ? (flags.allNamespaces ? undefined : ctx.namespace()) : undefined;
      if (t.names !== undefined) {
        for (const name of t.names) victims.push({ resource: t.resource, namespace, name });
        continue;
      }
      if (!flags.selector && !flags.all) throw new CliError('resource(s) were provided, but no name was specified');
      const list = await client.list(t.resource, {
        ...(namespace !== undefined ? { namespace } : {}),
        ...(flags.selector ? { labelSelector: flags.selector } : {}),
      });
      for (const obj of list.items)
        victims.push({ resource: t.resource, namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' });
      if (list.items.length === 0)
        ctx.err(namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    }
  }

  const pending: { victim: Victim; uid: string | undefined }[] = [];
  let failed: unknown;
  for (const v of victims) {
    try {
      const opts: { namespace?: string; propagationPolicy: typeof policy; gracePeriodSeconds?: number } = {
        propagationPolicy: policy,
      };
      if (v.namespace !== undefined) opts.namespace = v.namespace;
      if (flags.force) opts.gracePeriodSeconds = 0;
      else if (flags.gracePeriod !== undefined && flags.gracePeriod >= 0) opts.gracePeriodSeconds = flags.gracePeriod;
      const result: KubeObject | undefined = await client.delete(v.resource, v.name, opts);
      ctx.out(`${qualifiedKindName(v.resource)} "${v.name}" deleted`);
      pending.push({ victim: v, uid: result?.metadata?.uid });
    } catch (err) {
      if (isNotFound(err) && flags.ignoreNotFound) continue;
      failed ??= err;
      ctx.err(`Error from server (NotFound): ${errorMessage(err)}`);
    }
  }
  if (flags.wait) await waitGone(ctx, pending, flags.timeoutSeconds);
  if (failed !== undefined) throw new CliError('some objects could not be deleted');
}

/** Polls until every deleted object is gone (or replaced by a new one with another uid). */
async function waitGone(
  ctx: CliContext,
  pending: { victim: Victim; uid: string | undefined }[],
  timeoutSeconds: number,
): Promise<void> {
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
  let left = pending;
  let delay = 100;
  while (left.length > 0) {
    const still: typeof left = [];
    for (const p of left) {
      try {
        const obj = await ctx.client().get(p.victim.resource, p.victim.name, { namespace: p.victim.namespace });
        if (p.uid === undefined || obj.metadata.uid === p.uid) still.push(p);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    left = still;
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new CliError(
        `timed out waiting for the deletion of ${left.map((p) => `${qualifiedKindName(p.victim.resource)}/${p.victim.name}`).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
}
