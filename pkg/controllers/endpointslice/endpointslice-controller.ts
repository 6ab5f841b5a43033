// EndpointSlice controller: for each Service with a selector, slices of at most 100 endpoints
// (Kubernetes' --max-endpoints-per-slice default) labelled `kubernetes.io/service-name` and
// managed by endpointslice-controller.k8s.io, one endpoint per pod with an IP: ready, serving
// and terminating conditions, node, pod reference and, for a pod whose subdomain is the
// service, its hostname. Terminating pods stay (ready false) until they are gone.
// For a Service without a selector it mirrors the Endpoints (EndpointSliceMirroring), unless
// they carry `endpointslice.kubernetes.io/skip-mirror`; the `default/kubernetes` Endpoints
// the apiserver writes carry it, and its slice, which Kubernetes' apiserver writes itself, is
// written here from those Endpoints (named `kubernetes` as upstream).

import { isDeepStrictEqual } from 'node:util';
import { objectKey } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import { selectorMatches } from '../../api/selectors.js';
import type { Endpoint, EndpointSlice, EndpointSlicePort, Endpoints, Pod, Service } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../errors/index.js';
import { enqueueSelectingServices, isReady, isTerminal, ownerRef, targetPort, type PodView } from '../pods.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';

const SLICES = RESOURCES.endpointslices;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MIRRORING_NAME = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** One desired slice: its ports and endpoints. */
export interface SliceContent {
  ports: EndpointSlicePort[];
  endpoints: Endpoint[];
}

function chunks(endpoints: Endpoint[], ports: EndpointSlicePort[]): SliceContent[] {
  const out: SliceContent[] = [];
  for (let i = 0; i < endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
    out.push({ ports, endpoints: endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  // A service whose pods are all gone keeps one empty slice (with its ports), as upstream.
  return out.length > 0 ? out : [{ ports, endpoints: [] }];
}

/** The slices a selector Service should have, from the pods it selects (pure). */
export function desiredSlices(svc: Readonly<Service>, pods: readonly PodView[]): SliceContent[] {
  const spec = svc.spec ?? {};
  const namespace = svc.metadata.namespace ?? '';
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const groups = new Map<string, SliceContent>();
  for (const p of pods) {
    const ip = p.status?.podIP;
    if (typeof ip !== 'string' || ip === '' || isTerminal(p)) continue;
    const ports: EndpointSlicePort[] = [];
    for (const sp of spec.ports ?? []) {
      const port = targetPort(p, sp);
      if (port !== undefined) ports.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' });
    }
    const signature = JSON.stringify(ports);
    let group = groups.get(signature);
    if (group === undefined) groups.set(signature, (group = { ports, endpoints: [] }));
    const terminating = p.metadata.deletionTimestamp !== undefined;
    const serving = isReady(p);
    const endpoint: Endpoint = {
      addresses: [ip],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      ...(p.spec?.hostname && p.spec.subdomain === svc.metadata.name ? { hostname: p.spec.hostname } : {}),
      ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid },
    };
    group.endpoints.push(endpoint);
  }
  const byName = (a: Endpoint, b: Endpoint): number => (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? '');
  if (groups.size === 0) return [{ ports: [], endpoints: [] }];
  return [...groups.values()].flatMap((g) => chunks(g.endpoints.sort(byName), g.ports));
}

/** The slices mirroring a selector-less Service's Endpoints (pure). */
export function mirroredSlices(ep: Readonly<Endpoints>): SliceContent[] {
  return (ep.subsets ?? []).flatMap((subset) => {
    const ports = (subset.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: p.protocol ?? 'TCP',
    }));
    const endpoints: Endpoint[] = [];
    const add = (ready: boolean) => (a: NonNullable<typeof subset.addresses>[number]) =>
      endpoints.push({
        addresses: [a.ip],
        conditions: { ready, serving: ready, terminating: false },
        ...(a.hostname ? { hostname: a.hostname } : {}),
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        ...(a.targetRef ? { targetRef: a.targetRef } : {}),
      });
    (subset.addresses ?? []).forEach(add(true));
    (subset.notReadyAddresses ?? []).forEach(add(false));
    return chunks(endpoints, ports);
  });
}

export class EndpointSliceController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;
  private readonly slices: Informer<EndpointSlice>;
  /** Slices this controller created that its informer has not shown yet, by service key. */
  private readonly expected = new Map<string, Set<string>>();

  constructor(
    deps: ControllerContext & {
      services: Informer<Service>;
      pods: Informer<Pod>;
      endpoints: Informer<Endpoints>;
      slices: Informer<EndpointSlice>;
    },
  ) {
    const { client, services, pods, endpoints, slices, log } = deps;
    this.client = client;
    this.services = services;
    this.pods = pods;
    this.endpoints = endpoints;
    this.slices = slices;
    this.loop = new ReconcileLoop('endpointslice', (key) => this.reconcile(key), { log });
    const onKey = (o: { metadata: { namespace?: string; name?: string } }): void => this.loop.enqueue(objectKey(o));
    services.addHandler({ onAdd: onKey, onUpdate: (_o, s) => onKey(s), onDelete: onKey });
    endpoints.addHandler({ onAdd: onKey, onUpdate: (_o, e) => onKey(e), onDelete: onKey });
    const onSlice = (s: Readonly<EndpointSlice>): void => {
      const service = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (service !== undefined) this.loop.enqueue(`${s.metadata.namespace ?? ''}/${service}`);
    };
    slices.addHandler({ onAdd: onSlice, onUpdate: (_o, s) => onSlice(s), onDelete: onSlice });
    enqueueSelectingServices(pods, services, (key) => this.loop.enqueue(key));
  }

  /** The slices of a service that one of our two managers owns. */
  private ownSlices(namespace: string, service: string): EndpointSlice[] {
    return this.slices
      .byIndex('namespace', namespace)
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === service)
      .filter((s) => [CONTROLLER_NAME, MIRRORING_NAME].includes(s.metadata.labels?.[MANAGED_BY_LABEL] ?? ''))
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const waiting = this.expected.get(key);
    if (waiting !== undefined) {
      for (const n of waiting) if (this.slices.get(`${namespace}/${n}`) !== undefined) waiting.delete(n);
      // Our own creates are not in the cache yet: acting now would create them twice.
      if (waiting.size > 0) return { requeueAfterMs: 100 };
      this.expected.delete(key);
    }
    const svc = this.services.get(key);
    const existing = this.ownSlices(namespace, name);
    const plan = svc === undefined ? undefined : this.plan(svc);
    if (svc === undefined || plan === undefined) {
      for (const s of existing) await this.remove(s);
      return undefined;
    }
    await this.apply(svc, { existing, ...plan });
    return undefined;
  }

  /** What a service should have and who manages it; undefined when nothing of ours should exist. */
  private plan(svc: Readonly<Service>): { desired: SliceContent[]; manager: string } | undefined {
    const selector = svc.spec?.selector;
    const key = objectKey(svc);
    if (selector !== undefined && Object.keys(selector).length > 0) {
      const pods = this.pods
        .byIndex('namespace', svc.metadata.namespace ?? '')
        .filter((p) => selectorMatches({ matchLabels: selector }, p.metadata.labels));
      return { desired: desiredSlices(svc, pods), manager: CONTROLLER_NAME };
    }
    const ep = this.endpoints.get(key);
    if (ep === undefined) return undefined;
    const isApiserverService = key === 'default/kubernetes';
    if (ep.metadata.labels?.[SKIP_MIRROR_LABEL] === 'true' && !isApiserverService) return undefined;
    return { desired: mirroredSlices(ep), manager: isApiserverService ? CONTROLLER_NAME : MIRRORING_NAME };
  }

  private async apply(
    svc: Readonly<Service>,
    plan: { existing: EndpointSlice[]; desired: SliceContent[]; manager: string },
  ): Promise<void> {
    const namespace = svc.metadata.namespace ?? '';
    const service = svc.metadata.name ?? '';
    const copied = Object.entries(svc.metadata.labels ?? {}).filter(([k]) => k !== SKIP_MIRROR_LABEL);
    const labels: Record<string, string> = {
      ...Object.fromEntries(copied),
      [SERVICE_NAME_LABEL]: service,
      [MANAGED_BY_LABEL]: plan.manager,
    };
    const unused = [...plan.existing];
    const toCreate: SliceContent[] = [];
    for (const want of plan.desired) {
      // Reuse a slice with the same ports (the first), rewriting it only if it differs.
      const at = unused.findIndex((s) => isDeepStrictEqual(s.ports ?? [], want.ports));
      const slice = at >= 0 ? unused.splice(at, 1)[0] : undefined;
      if (slice === undefined) {
        toCreate.push(want);
        continue;
      }
      const same =
        isDeepStrictEqual(slice.endpoints, want.endpoints) && isDeepStrictEqual(slice.metadata.labels ?? {}, labels);
      if (!same)
        await this.client.update(
          SLICES,
          { ...slice, metadata: { ...slice.metadata, labels }, endpoints: want.endpoints, ports: want.ports },
          { namespace },
        );
    }
    for (const s of unused) await this.remove(s);
    for (const want of toCreate) await this.create(svc, { labels, content: want });
  }

  private async create(
    svc: Readonly<Service>,
    what: { labels: Record<string, string>; content: SliceContent },
  ): Promise<void> {
    const namespace = svc.metadata.namespace ?? '';
    const service = svc.metadata.name ?? '';
    const apiserverSlice = objectKey(svc) === 'default/kubernetes';
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        ...(apiserverSlice ? { name: service } : { generateName: `${service}-` }),
        namespace,
        labels: what.labels,
        ownerReferences: [{ ...ownerRef(svc), apiVersion: 'v1', kind: 'Service' }],
      },
      addressType: 'IPv4',
      endpoints: what.content.endpoints,
      ports: what.content.ports,
    };
    try {
      const created = await this.client.create(SLICES, slice, { namespace });
      const key = objectKey(svc);
      const names = this.expected.get(key) ?? new Set<string>();
      names.add(created.metadata.name ?? '');
      this.expected.set(key, names);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async remove(slice: Readonly<EndpointSlice>): Promise<void> {
    try {
      await this.client.delete(SLICES, slice.metadata.name ?? '', {
        namespace: slice.metadata.namespace,
        preconditions: { uid: slice.metadata.uid ?? '' },
      });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
