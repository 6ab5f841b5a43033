// Cluster DNS records (the Kubernetes DNS specification, smaller), answered from the
// agent's Service and Endpoints caches on every query, so an answer is as fresh as the cache:
// - <svc>.<ns>.svc.<domain>          A: the ClusterIP; headless: every ready endpoint;
//                                    ExternalName: a CNAME to spec.externalName
// - <hostname>.<svc>.<ns>.svc.<domain>  A: the ready endpoint with that hostname (headless)
// - _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV for a named port
// - <a-b-c-d>.<ns>.pod.<domain>      A: a-b-c-d read as an address
// Names under the domain that exist but lack the asked type get NODATA; the rest NXDOMAIN.

import type { EndpointAddress, Endpoints, Service, ServiceSpec } from '../../api/types/index.js';
import type { Informer } from '../../client/index.js';

export type Source<T extends Service | Endpoints> = Pick<Informer<T>, 'get'>;
export const DNS_TTL = 5;

export type Answer =
  | { type: 'A'; name: string; ttl: number; data: string }
  | { type: 'CNAME'; name: string; ttl: number; data: string }
  | {
      type: 'SRV';
      name: string;
      ttl: number;
      data: { priority: number; weight: number; port: number; target: string };
    };

export interface Lookup {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
}

/** An SRV question, taken apart: the name asked, the service's namespace and name, the port and protocol. */
interface SrvQuery {
  name: string;
  ns: string;
  svcName: string;
  portName: string;
  proto: string;
  type: string;
}

const NX: Lookup = { rcode: 'NXDOMAIN', answers: [] };
const NODATA: Lookup = { rcode: 'NOERROR', answers: [] };

export class ClusterRecords {
  readonly domain: string;

  constructor(
    private readonly sources: { services: Source<Service>; endpoints: Source<Endpoints> },
    domain = 'cluster.local',
  ) {
    this.domain = domain.toLowerCase().replace(/\.$/, '');
  }

  /** Whether a name is ours to answer (everything else is forwarded). */
  inDomain(name: string): boolean {
    const n = name.toLowerCase().replace(/\.$/, '');
    return n === this.domain || n.endsWith(`.${this.domain}`);
  }

  resolve(rawName: string, type: string): Lookup {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    if (!this.inDomain(name)) return NX;
    const labels = name === this.domain ? [] : name.slice(0, -(this.domain.length + 1)).split('.');
    // <domain>, svc.<domain>, <ns>.svc.<domain>, pod.<domain>: names without records.
    if (labels.length === 0 || (labels.length === 1 && (labels[0] === 'svc' || labels[0] === 'pod'))) return NODATA;
    const kind = labels[labels.length - 1];
    if (kind === 'pod') return this.pod(name, labels, type);
    if (kind !== 'svc') return NX;
    if (labels.length === 2) return NODATA;
    const ns = labels[labels.length - 2] ?? '';
    const svcName = labels[labels.length - 3] ?? '';
    const svc = this.sources.services.get(`${ns}/${svcName}`);
    if (svc === undefined) return NX;
    const host = labels.slice(0, -3);
    if (host.length === 0) return this.service(name, svc, type);
    if (host.length === 2 && host[0]?.startsWith('_') && host[1]?.startsWith('_'))
      return this.srv(svc.spec ?? {}, { name, ns, svcName, portName: host[0].slice(1), proto: host[1].slice(1), type });
    if (host.length === 1) {
      const ip = this.readyAddresses(ns, svcName).find((a) => a.hostname?.toLowerCase() === host[0])?.ip;
      if (ip === undefined) return NX;
      return type === 'A' || type === 'ANY'
        ? { rcode: 'NOERROR', answers: [{ type: 'A', name, ttl: DNS_TTL, data: ip }] }
        : NODATA;
    }
    return NX;
  }

  private service(name: string, svc: Service, type: string): Lookup {
    const spec: ServiceSpec = svc.spec ?? {};
    if (spec.type === 'ExternalName') {
      if (!spec.externalName) return NODATA;
      return type === 'A' || type === 'CNAME' || type === 'ANY' || type === 'AAAA'
        ? {
            rcode: 'NOERROR',
            answers: [{ type: 'CNAME', name, ttl: DNS_TTL, data: spec.externalName.replace(/\.$/, '') }],
          }
        : NODATA;
    }
    if (type !== 'A' && type !== 'ANY') return NODATA;
    const ips =
      spec.clusterIP === 'None' || !spec.clusterIP
        ? this.readyAddresses(svc.metadata.namespace ?? '', svc.metadata.name ?? '').map((a) => a.ip)
        : [spec.clusterIP];
    return {
      rcode: 'NOERROR',
      answers: [...new Set(ips)].map((ip) => ({ type: 'A' as const, name, ttl: DNS_TTL, data: ip })),
    };
  }

  /** `_<port>._<proto>.<svc>.<ns>.svc.<domain>`: the named port of the service, as SRV. */
  private srv(spec: ServiceSpec, q: SrvQuery): Lookup {
    const { name, ns, svcName, portName, proto, type } = q;
    const port = (spec.ports ?? []).find(
      (p) => p.name?.toLowerCase() === portName && (p.protocol ?? 'TCP').toLowerCase() === proto,
    );
    if (port === undefined || port.port === undefined) return NX;
    if (type !== 'SRV' && type !== 'ANY') return NODATA;
    return {
      rcode: 'NOERROR',
      answers: [
        {
          type: 'SRV',
          name,
          ttl: DNS_TTL,
          data: { priority: 0, weight: 100, port: port.port, target: `${svcName}.${ns}.svc.${this.domain}` },
        },
      ],
    };
  }

  private pod(name: string, labels: string[], type: string): Lookup {
    if (labels.length !== 3) return NX;
    const ip = (labels[0] ?? '').split('-');
    if (ip.length !== 4 || ip.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return NX;
    return type === 'A' || type === 'ANY'
      ? { rcode: 'NOERROR', answers: [{ type: 'A', name, ttl: DNS_TTL, data: ip.join('.') }] }
      : NODATA;
  }

  private readyAddresses(ns: string, name: string): EndpointAddress[] {
    const ep = this.sources.endpoints.get(`${ns}/${name}`);
    return (ep?.subsets ?? []).flatMap((s) => s.addresses ?? []);
  }
}
