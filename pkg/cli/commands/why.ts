// coxctl why POD | pod/POD | deployment/NAME: reads what the API says about the object (the
// object itself, its events, its node, the ConfigMaps/Secrets/claims it needs, its owners, the
// previous log of restarted containers; for a Deployment its ReplicaSets, their events, the
// newest one's pods, quotas and budgets) and prints the first cause with the next command.
// Read-only (get, list, log); a refused optional read (403) degrades the answer, never fails it.
// Only the object itself must be readable: an unknown pod is an error, a diagnosed failure is not.

import {
  controllerOf,
  labelSelectorToString,
  RESOURCES,
  resourcePath,
  resolveResource,
  type Deployment,
  type Event,
  type KubeObject,
  type Pod,
  type ReplicaSet,
} from '../../api/index.js';
import type { RestClient } from '../../client/index.js';
import { isNotFound, toApiError } from '../../errors/index.js';
import {
  diagnoseDeployment,
  diagnosePod,
  newestReplicaSet,
  podReferences,
  renderDiagnosis,
  type Diagnosis,
  type Lookup,
  type PodEvidence,
} from '../why/index.js';
import { CliError, type CliContext } from '../context.js';

export interface WhyFlags {
  output?: string;
}

/** Events are read newest-last by the apiserver; a flood is cut to this many. */
const MAX_EVENTS = 500;
/** Previous logs: the tail of at most this many restarted containers, bounded in lines and bytes. */
const MAX_LOGS = 4;
const LOG_TAIL_LINES = 10;
const LOG_LIMIT_BYTES = 16 * 1024;

type Target = { kind: 'pod' | 'deployment'; name: string };

export function parseWhyTarget(args: string[]): Target {
  const [first, second, ...extra] = args;
  if (first === undefined || extra.length > 0) throw new CliError('usage: coxctl why POD | pod/POD | deployment/NAME');
  const [type, name] = second !== undefined ? [first, second] : first.includes('/') ? split(first) : ['pod', first];
  if (name === '') throw new CliError('usage: coxctl why POD | pod/POD | deployment/NAME');
  // The names kubectl takes for a type (plural, singular, short, with a group).
  const resource = resolveResource(type);
  if (resource === RESOURCES.pods) return { kind: 'pod', name };
  if (resource === RESOURCES.deployments) return { kind: 'deployment', name };
  throw new CliError(`coxctl why explains pods and deployments, not "${type}"`);
}

function split(arg: string): [string, string] {
  const slash = arg.indexOf('/');
  return [arg.slice(0, slash), arg.slice(slash + 1)];
}

/** Reads of things the answer can do without: NotFound is 'missing', another failure is noted and undefined. */
class OptionalReads {
  readonly unreadable: string[] = [];

  /** `resource` names the read in the answer (`nodes: Forbidden`), once per resource. */
  async read<T>(resource: string, fetch: () => Promise<T>): Promise<T | 'missing' | undefined> {
    try {
      return await fetch();
    } catch (err) {
      if (isNotFound(err)) return 'missing';
      const noted = `${resource}: ${toApiError(err).reason}`;
      if (!this.unreadable.includes(noted)) this.unreadable.push(noted);
      return undefined;
    }
  }

  async list<T>(resource: string, fetch: () => Promise<{ items: T[] }>): Promise<T[] | undefined> {
    const got = await this.read(resource, fetch);
    return got === undefined || got === 'missing' ? undefined : got.items;
  }
}

async function eventsAbout(
  client: RestClient,
  reads: OptionalReads,
  about: { namespace: string; name: string; uid?: string | undefined },
): Promise<Event[]> {
  const fieldSelector = `involvedObject.name=${about.name}${about.uid ? `,involvedObject.uid=${about.uid}` : ''}`;
  const items = await reads.list('events', () =>
    client.list(RESOURCES.events, { namespace: about.namespace, fieldSelector }),
  );
  return (items ?? []).slice(-MAX_EVENTS);
}

async function lookups(
  names: string[],
  read: (name: string) => Promise<KubeObject | 'missing' | undefined>,
): Promise<Record<string, Lookup>> {
  const found = await Promise.all(names.map(async (n) => [n, await read(n)] as const));
  return Object.fromEntries(
    found.map(([n, v]) => [n, v === undefined ? 'unknown' : v === 'missing' ? 'missing' : 'present']),
  );
}

async function previousLog(client: RestClient, pod: Pod, container: string): Promise<string | undefined> {
  try {
    const res = await client.request({
      method: 'GET',
      path: resourcePath(RESOURCES.pods, {
        namespace: pod.metadata.namespace,
        name: pod.metadata.name ?? '',
        subresource: 'log',
      }),
      query: { container, previous: 'true', tailLines: LOG_TAIL_LINES, limitBytes: LOG_LIMIT_BYTES },
      accept: '*/*',
    });
    return res.status === 200 ? res.body.subarray(0, LOG_LIMIT_BYTES).toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

async function ownersOf(client: RestClient, reads: OptionalReads, pod: Pod): Promise<{ kind: string; name: string }[]> {
  const owner = controllerOf(pod);
  if (owner === undefined) return [];
  const chain = [{ kind: owner.kind, name: owner.name }];
  if (owner.kind !== 'ReplicaSet') return chain;
  const rs = await reads.read('replicasets', () =>
    client.get(RESOURCES.replicasets, owner.name, { namespace: pod.metadata.namespace }),
  );
  const top = rs === undefined || rs === 'missing' ? undefined : controllerOf(rs);
  if (top !== undefined) chain.push({ kind: top.kind, name: top.name });
  return chain;
}

/** Everything the pod diagnosis looks at, read through the API. */
export async function podEvidence(client: RestClient, pod: Pod): Promise<PodEvidence> {
  const namespace = pod.metadata.namespace ?? 'default';
  const reads = new OptionalReads();
  const refs = podReferences(pod);
  const nodeName = pod.spec?.nodeName;
  const restarted = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    .filter((s) => s.restartCount > 0 || s.lastState?.terminated !== undefined || s.state?.terminated !== undefined)
    .slice(0, MAX_LOGS);
  const [events, node, configMaps, secrets, claimList, logs, owners] = await Promise.all([
    eventsAbout(client, reads, { namespace, name: pod.metadata.name ?? '', uid: pod.metadata.uid }),
    nodeName ? reads.read('nodes', () => client.get(RESOURCES.nodes, nodeName)) : Promise.resolve(undefined),
    lookups(refs.configMaps, (n) => reads.read('configmaps', () => client.get(RESOURCES.configmaps, n, { namespace }))),
    lookups(refs.secrets, (n) => reads.read('secrets', () => client.get(RESOURCES.secrets, n, { namespace }))),
    Promise.all(
      refs.claims.map(
        async (n) =>
          [
            n,
            await reads.read('persistentvolumeclaims', () =>
              client.get(RESOURCES.persistentvolumeclaims, n, { namespace }),
            ),
          ] as const,
      ),
    ),
    Promise.all(restarted.map(async (s) => [s.name, await previousLog(client, pod, s.name)] as const)),
    ownersOf(client, reads, pod),
  ]);
  return {
    pod,
    events,
    ...(node !== undefined ? { node } : {}),
    configMaps,
    secrets,
    claims: Object.fromEntries(claimList.map(([n, c]) => [n, c ?? 'unknown'])),
    previousLogs: Object.fromEntries(logs.filter((l): l is readonly [string, string] => l[1] !== undefined)),
    owners,
    unreadable: reads.unreadable,
  };
}

function ready(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

async function deploymentDiagnosis(client: RestClient, d: Deployment): Promise<Diagnosis> {
  const namespace = d.metadata.namespace ?? 'default';
  const reads = new OptionalReads();
  const owned = (o: KubeObject, uid: string | undefined): boolean => controllerOf(o)?.uid === uid;
  const replicaSets = (
    (await reads.list('replicasets', () =>
      client.list(RESOURCES.replicasets, { namespace, labelSelector: labelSelectorToString(d.spec?.selector) }),
    )) ?? []
  ).filter((rs) => owned(rs, d.metadata.uid));
  const newest: ReplicaSet | undefined = newestReplicaSet(replicaSets);
  const [deploymentEvents, rsEvents, pods, quotas, disruptionBudgets] = await Promise.all([
    eventsAbout(client, reads, { namespace, name: d.metadata.name ?? '', uid: d.metadata.uid }),
    newest
      ? eventsAbout(client, reads, { namespace, name: newest.metadata.name ?? '', uid: newest.metadata.uid })
      : Promise.resolve([]),
    newest
      ? reads.list('pods', () =>
          client.list(RESOURCES.pods, { namespace, labelSelector: labelSelectorToString(newest.spec?.selector) }),
        )
      : Promise.resolve([]),
    reads.list('resourcequotas', () => client.list(RESOURCES.resourcequotas, { namespace })),
    reads.list('poddisruptionbudgets', () => client.list(RESOURCES.poddisruptionbudgets, { namespace })),
  ]);
  const newPods = (pods ?? []).filter((p) => owned(p, newest?.metadata.uid));
  const failing =
    newPods.find((p) => !ready(p) && p.metadata.deletionTimestamp === undefined) ?? newPods.find((p) => !ready(p));
  return diagnoseDeployment({
    deployment: d,
    replicaSets,
    events: [...deploymentEvents, ...rsEvents],
    pods: newPods,
    ...(failing !== undefined ? { failingPod: await podEvidence(client, failing) } : {}),
    ...(quotas !== undefined ? { quotas } : {}),
    ...(disruptionBudgets !== undefined ? { disruptionBudgets } : {}),
    unreadable: reads.unreadable,
  });
}

export async function runWhy(ctx: CliContext, args: string[], flags: WhyFlags): Promise<void> {
  if (flags.output !== undefined && flags.output !== 'json')
    throw new CliError(`unable to match a printer suitable for the output format "${flags.output}", allowed: json`);
  const target = parseWhyTarget(args);
  const client = ctx.client();
  const namespace = ctx.namespace();
  const diagnosis =
    target.kind === 'pod'
      ? diagnosePod(await podEvidence(client, await client.get(RESOURCES.pods, target.name, { namespace })))
      : await deploymentDiagnosis(client, await client.get(RESOURCES.deployments, target.name, { namespace }));
  ctx.out(flags.output === 'json' ? JSON.stringify(diagnosis, undefined, 2) : renderDiagnosis(diagnosis));
}
