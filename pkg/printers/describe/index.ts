// kubectl describe's layouts (k8s.io/kubectl/pkg/describe) for the common kinds, a generic
// one for the rest, and what each needs to read besides the object itself (its events, the
// pods or ReplicaSets it controls, a node's Lease, a Service's EndpointSlices). Reading goes
// through DescribeSource, which the REST client satisfies, so the layouts stay pure.

import type { KubeList, KubeObject } from '../../api/meta.js';
import { RESOURCES, type Resource, type ResourceInfo } from '../../api/registry.js';
import type { Event } from '../../api/types/index.js';
import { errorMessage, isForbidden, isNotFound } from '../../errors/index.js';
import { selectorString } from './common.js';
import { describeConfigMap, describeNamespace, describeSecret } from './config.js';
import { describeGeneric } from './generic.js';
import { describeCronJob, describeEndpoints, describeServiceAccount } from './more.js';
import { describeNode } from './node.js';
import { describePod } from './pod.js';
import { describeService } from './service.js';
import {
  describeDaemonSet,
  describeDeployment,
  describeJob,
  describeReplicaSet,
  describeStatefulSet,
} from './workloads.js';

export { alignTabs, escapeTerminal, PrefixWriter } from './prefix-writer.js';
export { describeConfigMap, describeNamespace, describeSecret } from './config.js';
export { describeGeneric, smartLabel } from './generic.js';
export { describeCronJob, describeEndpoints, describeServiceAccount } from './more.js';
export { describeNode } from './node.js';
export { describePod, probeText } from './pod.js';
export { describeService, endpointsText } from './service.js';
export {
  describeDaemonSet,
  describeDeployment,
  describeJob,
  describeReplicaSet,
  describeStatefulSet,
} from './workloads.js';
export { rfc1123z } from './common.js';

export interface DescribeSource {
  get<T extends KubeObject>(r: Resource<T>, name: string, opts?: { namespace?: string | undefined }): Promise<T>;
  list<T extends KubeObject>(
    r: Resource<T>,
    opts?: { namespace?: string | undefined; labelSelector?: string; fieldSelector?: string },
  ): Promise<KubeList<T>>;
}

export interface DescribeRequest {
  resource: ResourceInfo;
  /** The namespace of a namespaced resource. */
  namespace: string | undefined;
  /** Names to describe; without them every object (matching `selector`) is. */
  names?: string[] | undefined;
  selector?: string | undefined;
  now: Date;
}

/** The events about `obj`, as kubectl searches them (name, namespace, kind unless a pod, uid); none when unreadable. */
async function eventsFor(source: DescribeSource, obj: KubeObject, kind: string): Promise<Event[]> {
  const terms = [`involvedObject.name=${obj.metadata.name ?? ''}`];
  const namespace = obj.metadata.namespace;
  if (namespace !== undefined) terms.push(`involvedObject.namespace=${namespace}`);
  if (kind !== 'Pod') terms.push(`involvedObject.kind=${kind}`);
  // A kubelet names its Node by name, not uid, in the events it records.
  if (kind !== 'Node' && obj.metadata.uid !== undefined) terms.push(`involvedObject.uid=${obj.metadata.uid}`);
  try {
    return (await source.list(RESOURCES.events, { namespace, fieldSelector: terms.join(',') })).items;
  } catch {
    return [];
  }
}

async function objectsOf<T extends KubeObject>(
  source: DescribeSource,
  resource: Resource<T>,
  req: DescribeRequest,
): Promise<T[]> {
  const namespace = resource.namespaced ? req.namespace : undefined;
  if (req.names !== undefined) {
    const found: T[] = [];
    for (const name of req.names) found.push(await source.get(resource, name, { namespace }));
    return found;
  }
  return (await source.list(resource, { namespace, ...(req.selector ? { labelSelector: req.selector } : {}) })).items;
}

type Render<T extends KubeObject> = (obj: T, source: DescribeSource, now: Date) => Promise<string>;

interface Describer {
  resource: ResourceInfo;
  describe(source: DescribeSource, req: DescribeRequest): Promise<string[]>;
}

function describer<T extends KubeObject>(resource: Resource<T>, render: Render<T>): Describer {
  return {
    resource,
    async describe(source, req) {
      const out: string[] = [];
      for (const obj of await objectsOf(source, resource, req)) out.push(await render(obj, source, req.now));
      return out;
    },
  };
}

/** Pods of a namespace matching a controller's selector (the describer keeps only those it controls). */
async function podsSelected(source: DescribeSource, namespace: string | undefined, selector: string) {
  return (await source.list(RESOURCES.pods, { namespace, ...(selector ? { labelSelector: selector } : {}) })).items;
}

async function optional<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err) || isForbidden(err)) return undefined;
    throw err;
  }
}

const DESCRIBERS: Describer[] = [
  describer(RESOURCES.pods, async (pod, source, now) =>
    describePod(pod, { events: await eventsFor(source, pod, 'Pod') }, now),
  ),
  describer(RESOURCES.deployments, async (d, source, now) => {
    const replicaSets = (
      await source.list(RESOURCES.replicasets, {
        namespace: d.metadata.namespace,
        labelSelector: selectorString(d.spec?.selector),
      })
    ).items;
    return describeDeployment(d, { events: await eventsFor(source, d, 'Deployment'), replicaSets }, now);
  }),
  describer(RESOURCES.replicasets, async (rs, source, now) => {
    const pods = await podsSelected(source, rs.metadata.namespace, selectorString(rs.spec?.selector));
    return describeReplicaSet(rs, { events: await eventsFor(source, rs, 'ReplicaSet'), pods }, now);
  }),
  describer(RESOURCES.statefulsets, async (ss, source, now) => {
    const pods = await podsSelected(source, ss.metadata.namespace, selectorString(ss.spec?.selector));
    return describeStatefulSet(ss, { events: await eventsFor(source, ss, 'StatefulSet'), pods }, now);
  }),
  describer(RESOURCES.daemonsets, async (ds, source, now) => {
    const pods = await podsSelected(source, ds.metadata.namespace, selectorString(ds.spec?.selector));
    return describeDaemonSet(ds, { events: await eventsFor(source, ds, 'DaemonSet'), pods }, now);
  }),
  describer(RESOURCES.jobs, async (job, source, now) =>
    describeJob(job, { events: await eventsFor(source, job, 'Job') }, now),
  ),
  describer(RESOURCES.nodes, async (node, source, now) => {
    const name = node.metadata.name ?? '';
    const pods = await optional(
      source.list(RESOURCES.pods, {
        fieldSelector: `spec.nodeName=${name},status.phase!=Succeeded,status.phase!=Failed`,
      }),
    );
    let lease: Parameters<typeof describeNode>[1]['lease'];
    try {
      lease = await source.get(RESOURCES.leases, name, { namespace: 'kube-node-lease' });
    } catch (err) {
      lease = { error: errorMessage(err) };
    }
    return describeNode(node, { events: await eventsFor(source, node, 'Node'), lease, pods: pods?.items }, now);
  }),
  describer(RESOURCES.services, async (svc, source, now) => {
    const slices = await optional(
      source.list(RESOURCES.endpointslices, {
        namespace: svc.metadata.namespace,
        labelSelector: `kubernetes.io/service-name=${svc.metadata.name ?? ''}`,
      }),
    );
    const events = await eventsFor(source, svc, 'Service');
    return describeService(svc, { events, endpointSlices: slices?.items ?? [] }, now);
  }),
  describer(RESOURCES.configmaps, async (cm, source, now) =>
    describeConfigMap(cm, { events: await eventsFor(source, cm, 'ConfigMap') }, now),
  ),
  describer(RESOURCES.secrets, async (secret) => describeSecret(secret)),
  describer(RESOURCES.serviceaccounts, async (sa, source, now) => {
    const secrets = await optional(source.list(RESOURCES.secrets, { namespace: sa.metadata.namespace }));
    const events = await eventsFor(source, sa, 'ServiceAccount');
    return describeServiceAccount(sa, { events, secrets: secrets?.items ?? [] }, now);
  }),
  describer(RESOURCES.endpoints, async (ep, source, now) =>
    describeEndpoints(ep, { events: await eventsFor(source, ep, 'Endpoints') }, now),
  ),
  describer(RESOURCES.cronjobs, async (cj, source, now) =>
    describeCronJob(cj, { events: await eventsFor(source, cj, 'CronJob') }, now),
  ),
  describer(RESOURCES.namespaces, async (ns, source) => {
    const namespace = ns.metadata.name;
    const quotas = await optional(source.list(RESOURCES.resourcequotas, { namespace }));
    const limitRanges = await optional(source.list(RESOURCES.limitranges, { namespace }));
    return describeNamespace(ns, { quotas: quotas?.items, limitRanges: limitRanges?.items });
  }),
];

/** Describes the objects a request names, each in kubectl's layout for its kind. */
export async function describeObjects(source: DescribeSource, req: DescribeRequest): Promise<string[]> {
  const own = DESCRIBERS.find((d) => d.resource.group === req.resource.group && d.resource.kind === req.resource.kind);
  if (own !== undefined) return own.describe(source, req);
  return describer(req.resource, async (obj, src, now) =>
    describeGeneric({ ...obj, kind: req.resource.kind }, { events: await eventsFor(src, obj, req.resource.kind) }, now),
  ).describe(source, req);
}
