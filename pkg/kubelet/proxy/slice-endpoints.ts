// The service proxy and DNS read EndpointSlices, as kube-proxy and CoreDNS do: this view
// joins the slices of each Service (label `kubernetes.io/service-name`) into the Endpoints
// shape both already consume. A slice endpoint is ready unless `conditions.ready` is false
// (absent means ready, as upstream); non-ready ones become notReadyAddresses.

import type { EndpointAddress, EndpointSlice, EndpointSubset, Endpoints } from '../../api/types/index.js';
import type { Informer, InformerHandlers } from '../../client/index.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** What the view needs of the slice informer (a fake in tests). */
export type SliceSource = Pick<Informer<EndpointSlice>, 'list' | 'byIndex' | 'addHandler'>;

/** The index the slice informer must be created with: namespace/service of each slice. */
export const BY_SERVICE = 'service';
export function serviceKeyOf(slice: Readonly<EndpointSlice>): string[] {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service === undefined ? [] : [`${slice.metadata.namespace ?? ''}/${service}`];
}

function subsetOf(slice: Readonly<EndpointSlice>): EndpointSubset | undefined {
  // Only IP slices carry addresses the proxy can route to.
  if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') return undefined;
  const addresses: EndpointAddress[] = [];
  const notReady: EndpointAddress[] = [];
  for (const e of slice.endpoints ?? []) {
    const ip = e.addresses[0];
    if (ip === undefined) continue;
    const address: EndpointAddress = {
      ip,
      ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
      ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}),
      ...(e.targetRef !== undefined ? { targetRef: e.targetRef } : {}),
    };
    (e.conditions?.ready === false ? notReady : addresses).push(address);
  }
  const ports = (slice.ports ?? []).flatMap((p) =>
    p.port === undefined ? [] : [{ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }],
  );
  return {
    ports,
    ...(addresses.length > 0 ? { addresses } : {}),
    ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
  };
}

/** The Endpoints of one service, joined from its slices (undefined when it has none). */
export function endpointsFromSlices(key: string, slices: readonly Readonly<EndpointSlice>[]): Endpoints | undefined {
  if (slices.length === 0) return undefined;
  const [namespace = '', name = ''] = key.split('/');
  const subsets = slices.flatMap((s) => subsetOf(s) ?? []);
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace, name }, subsets };
}

/** Endpoints per service, read from the slice informer on every call (so always as fresh as it). */
export class SliceEndpoints {
  constructor(private readonly slices: SliceSource) {}

  get(key: string): Endpoints | undefined {
    return endpointsFromSlices(key, this.slices.byIndex(BY_SERVICE, key));
  }

  list(): Endpoints[] {
    const keys = new Set(this.slices.list().flatMap(serviceKeyOf));
    return [...keys].flatMap((k) => this.get(k) ?? []);
  }

  /** Any slice change is a change of its service's endpoints; handlers get the joined view. */
  addHandler(handlers: InformerHandlers<Endpoints>): void {
    const joined = (s: Readonly<EndpointSlice>): Endpoints => {
      const key = serviceKeyOf(s)[0] ?? `${s.metadata.namespace ?? ''}/`;
      return this.get(key) ?? endpointsFromSlices(key, [s]) ?? { apiVersion: 'v1', kind: 'Endpoints', metadata: {} };
    };
    this.slices.addHandler({
      onAdd: (s) => handlers.onAdd?.(joined(s)),
      onUpdate: (o, s) => handlers.onUpdate?.(joined(o), joined(s)),
      onDelete: (s) => handlers.onDelete?.(joined(s)),
    });
  }
}
