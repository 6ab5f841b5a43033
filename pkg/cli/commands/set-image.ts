// coxctl set image TYPE/NAME CONTAINER=IMAGE... (`*=IMAGE` for every container): a strategic
// merge patch of the pod template's containers (or a Pod's own), keyed by container name.
// Nothing is sent when every image is already the asked one, as kubectl prints nothing then.

import type { KubeObject } from '../../api/meta.js';
import { isObject } from '../../api/meta.js';
import { CliError, type CliContext } from '../context.js';
import { nameOf } from '../output.js';
import { parseDryRun, type OutputFlags } from './create-generators.js';
import { parseTargets } from './targets.js';

/** Where the pod spec sits in each kind that has one. */
const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** CONTAINER=IMAGE arguments. */
export function parseImageArgs(args: string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0 || eq === arg.length - 1) throw new CliError(`invalid image update: ${arg}, expected CONTAINER=IMAGE`);
    images[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  if (Object.keys(images).length === 0) throw new CliError('at least one image update is required');
  return images;
}

function nested(obj: unknown, path: string[]): Record<string, unknown> | undefined {
  let at: unknown = obj;
  for (const key of path) at = isObject(at) ? at[key] : undefined;
  return isObject(at) ? at : undefined;
}

function wrap(path: string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

/** The patch that sets the images, or undefined when nothing changes; throws for an unknown container. */
export function imagePatch(obj: KubeObject, images: Record<string, string>): unknown {
  const path = POD_SPEC_PATH[obj.kind];
  if (path === undefined) throw new CliError(`cannot set the image of a ${obj.kind}`);
  const spec = nested(obj, path) ?? {};
  const patch: Record<string, { name: string; image: string }[]> = {};
  const found = new Set<string>();
  for (const field of ['initContainers', 'containers']) {
    const list = spec[field];
    for (const c of Array.isArray(list) ? list : []) {
      if (!isObject(c) || typeof c['name'] !== 'string') continue;
      const image = images[c['name']] ?? images['*'];
      if (image === undefined) continue;
      found.add(c['name']);
      if (c['image'] !== image) (patch[field] ??= []).push({ name: c['name'], image });
    }
  }
  for (const name of Object.keys(images))
    if (name !== '*' && !found.has(name)) throw new CliError(`unable to find container named "${name}"`);
  return Object.keys(patch).length === 0 ? undefined : wrap(path, patch);
}

export async function runSetImage(ctx: CliContext, args: string[], flags: OutputFlags): Promise<void> {
  const dryRun = parseDryRun(flags.dryRun);
  const resourceArgs = args.filter((a) => !a.includes('='));
  const images = parseImageArgs(args.filter((a) => a.includes('=')));
  const client = ctx.client();
  for (const t of parseTargets(resourceArgs)) {
    if (t.names === undefined) throw new CliError('resource(s) were provided, but no name was specified');
    const namespace = t.resource.namespaced ? ctx.namespace() : undefined;
    for (const name of t.names) {
      const obj = await client.get(t.resource, name, { namespace });
      const patch = imagePatch(obj, images);
      if (patch === undefined) continue;
      if (dryRun !== 'client')
        await client.patch(t.resource, name, {
          type: 'strategic',
          body: patch,
          namespace,
          fieldManager: 'kubectl-set',
          dryRun: dryRun === 'server',
        });
      const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
      ctx.out(`${nameOf(obj)} image updated${suffix}`);
    }
  }
}
