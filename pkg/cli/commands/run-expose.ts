// coxctl run (a Pod from an image) and expose (a Service selecting what a Deployment,
// ReplicaSet, ReplicationController, Pod or Service selects), built by ./generators.ts and
// sent through submitGenerated(), so --dry-run and -o behave as in `create`.

import type { KubeObject } from '../../api/meta.js';
import { isObject } from '../../api/meta.js';
import { CliError, type CliContext } from '../context.js';
import { submitGenerated, type OutputFlags } from './create-generators.js';
import {
  parseLabelList,
  parsePortFlag,
  podObject,
  serviceObject,
  type RestartPolicy,
  type ServiceType,
} from './generators.js';
import { parseTargets } from './targets.js';

export interface RunFlags extends OutputFlags {
  image?: string;
  restart?: string;
  env?: string[];
  labels?: string;
  port?: string;
  command?: boolean;
}

function restartPolicy(value: string | undefined): RestartPolicy {
  if (value === undefined || value === 'Always' || value === 'OnFailure' || value === 'Never') return value ?? 'Always';
  throw new CliError(`invalid restart policy: ${value}`);
}

export function runRun(ctx: CliContext, target: { name: string; args: string[] }, flags: RunFlags): Promise<void> {
  if (flags.image === undefined || flags.image === '') throw new CliError('required flag(s) "image" not set');
  if (flags.command === true && target.args.length === 0) throw new CliError('--command requires arguments after --');
  const pod = podObject({
    name: target.name,
    image: flags.image,
    ...(flags.labels !== undefined ? { labels: parseLabelList(flags.labels) } : {}),
    env: flags.env ?? [],
    ...(flags.port !== undefined ? { port: parsePortFlag(flags.port, '--port') } : {}),
    restart: restartPolicy(flags.restart),
    args: target.args,
    command: flags.command === true,
  });
  return submitGenerated(ctx, pod, { ...flags, verb: 'created' });
}

export interface ExposeFlags extends OutputFlags {
  port?: string;
  targetPort?: string;
  type?: string;
  name?: string;
  protocol?: string;
  selector?: string;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The pod spec of a Pod, or of the template of a workload. */
function podSpecOf(obj: KubeObject): Record<string, unknown> | undefined {
  const spec = obj['spec'];
  if (!isObject(spec)) return undefined;
  if (obj.kind === 'Pod') return spec;
  const template = spec['template'];
  return isObject(template) && isObject(template['spec']) ? template['spec'] : undefined;
}

/** What the new Service selects: the object's selector (or a Pod's labels). */
function selectorOf(obj: KubeObject): Record<string, string> {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  switch (obj.kind) {
    case 'Pod': {
      const labels = obj.metadata.labels ?? {};
      if (Object.keys(labels).length === 0)
        throw new CliError(
          "couldn't retrieve selectors via --selector flag or introspection: the pod has no labels and cannot be exposed",
        );
      return labels;
    }
    case 'Service':
    case 'ReplicationController':
      return stringMap(spec['selector']) ?? {};
    case 'Deployment':
    case 'ReplicaSet': {
      const selector = isObject(spec['selector']) ? spec['selector'] : {};
      const expressions = selector['matchExpressions'];
      if (Array.isArray(expressions) && expressions.length > 0)
        throw new CliError(
          "couldn't retrieve selectors via --selector flag or introspection: couldn't convert expressions to map: the selector uses matchExpressions, which a Service cannot",
        );
      return stringMap(selector['matchLabels']) ?? {};
    }
    default:
      throw new CliError(`cannot expose a ${obj.kind}`);
  }
}

/** The ports found on the object when --port is not given. */
function portsOf(obj: KubeObject): number[] {
  if (obj.kind === 'Service') {
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    const ports = Array.isArray(spec['ports']) ? spec['ports'] : [];
    return ports.flatMap((p) => (isObject(p) && typeof p['port'] === 'number' ? [p['port']] : []));
  }
  const containers = podSpecOf(obj)?.['containers'];
  return (Array.isArray(containers) ? containers : []).flatMap((c: unknown) => {
    const ports = isObject(c) ? c['ports'] : undefined;
    return (Array.isArray(ports) ? ports : []).flatMap((p: unknown) =>
      isObject(p) && typeof p['containerPort'] === 'number' ? [p['containerPort']] : [],
    );
  });
}

function serviceType(value: string | undefined): ServiceType | undefined {
  if (value === undefined || value === 'ClusterIP' || value === 'NodePort' || value === 'LoadBalancer') return value;
  throw new CliError(`invalid service type: ${value}, must be one of ClusterIP, NodePort, LoadBalancer`);
}

function protocolOf(value: string | undefined): 'TCP' | 'UDP' | 'SCTP' {
  if (value === undefined || value === 'TCP' || value === 'UDP' || value === 'SCTP') return value ?? 'TCP';
  throw new CliError(`invalid protocol: ${value}, must be one of TCP, UDP, SCTP`);
}

export async function runExpose(ctx: CliContext, args: string[], flags: ExposeFlags): Promise<void> {
  const type = serviceType(flags.type);
  const protocol = protocolOf(flags.protocol);
  const [target, ...more] = parseTargets(args);
  const name = target?.names?.[0];
  if (target === undefined || name === undefined || more.length > 0 || (target.names?.length ?? 0) > 1)
    throw new CliError(
      'You must provide one resource and name to expose (e.g. coxctl expose deployment web --port=80)',
    );
  const source = await ctx.client().get(target.resource, name, {
    namespace: target.resource.namespaced ? ctx.namespace() : undefined,
  });
  const selector = flags.selector !== undefined ? parseLabelList(flags.selector) : selectorOf(source);
  const ports = flags.port !== undefined ? [parsePortFlag(flags.port, '--port')] : portsOf(source);
  if (ports.length === 0) throw new CliError("couldn't find port via --port flag or introspection");
  const service = serviceObject({
    name: flags.name ?? name,
    selector,
    ...(source.metadata.labels !== undefined ? { labels: source.metadata.labels } : {}),
    ports,
    ...(flags.targetPort !== undefined ? { targetPort: flags.targetPort } : {}),
    protocol,
    ...(type !== undefined ? { type } : {}),
  });
  return submitGenerated(ctx, service, { ...flags, verb: 'exposed' });
}
