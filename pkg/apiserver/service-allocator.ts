// Services' ClusterIPs (from the service CIDR, default 10.96.0.0/12; the first address is
// the `kubernetes` Service's) and NodePorts (30000-32767). The allocations in use are read
// from the stored Services at start and kept in memory; a single apiserver owns them.
// (With several apiservers on etcd this would need the allocation stored with CAS, as
// Kubernetes keeps its bitmap; not done yet.)

import { randomInt } from 'node:crypto';
import { isObject, type KubeObject } from '../api/meta.js';
import { ApiError, invalid } from '../errors/index.js';
import { intToIp, ipToInt } from '../api/cidr.js';

/** A Service's spec as sent: an object, or an empty one when it has none. */
function specOf(svc: KubeObject): Record<string, unknown> {
  const spec = svc['spec'];
  return isObject(spec) ? spec : {};
}

/** The entries of `spec.ports` that are objects. */
function portsOf(spec: Record<string, unknown>): Record<string, unknown>[] {
  const ports = spec['ports'];
  return Array.isArray(ports) ? ports.filter(isObject) : [];
}

export interface ServiceRanges {
  cidr: string;
  nodePortMin: number;
  nodePortMax: number;
}

export const DEFAULT_SERVICE_RANGES: ServiceRanges = { cidr: '10.96.0.0/12', nodePortMin: 30000, nodePortMax: 32767 };

export class ServiceAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly ips = new Set<number>();
  private readonly ports = new Set<number>();

  constructor(private readonly ranges: ServiceRanges = DEFAULT_SERVICE_RANGES) {
    const [addr, bits] = ranges.cidr.split('/');
    this.size = 2 ** (32 - Number(bits));
    this.base = ipToInt(addr ?? '10.96.0.0');
  }

  /** The address of the `kubernetes` Service: the first of the range. */
  apiserverServiceIP(): string {
    return intToIp(this.base + 1);
  }

  /** Records what existing Services hold (at start). */
  load(services: KubeObject[]): void {
    for (const s of services) this.reserveExisting(s);
  }

  private reserveExisting(svc: KubeObject): void {
    const spec = specOf(svc);
    const ip = spec['clusterIP'];
    if (typeof ip === 'string' && ip !== '' && ip !== 'None') this.ips.add(ipToInt(ip));
    for (const p of portsOf(spec)) if (typeof p['nodePort'] === 'number') this.ports.add(p['nodePort']);
  }

  private inRange(n: number): boolean {
    return n > this.base && n < this.base + this.size - 1;
  }

  /** Fills clusterIP(s) and nodePorts of a Service about to be created; throws Invalid on conflicts. */
  allocate(svc: KubeObject): () => void {
    const spec = specOf(svc);
    svc['spec'] = spec;
    const type = String(spec['type'] ?? 'ClusterIP');
    const taken: { ip?: number; ports: number[] } = { ports: [] };
    const release = (): void => {
      if (taken.ip !== undefined) this.ips.delete(taken.ip);
      for (const p of taken.ports) this.ports.delete(p);
    };
    const name = svc.metadata.name ?? '';
    if (type !== 'ExternalName') {
      const wanted = spec['clusterIP'];
      if (wanted === 'None') {
        spec['clusterIPs'] = ['None'];
      } else if (typeof wanted === 'string' && wanted !== '') {
        const n = ipToInt(wanted);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(wanted) || !this.inRange(n)) {
          throw invalid({ kind: 'Service', group: '' }, name, [
            {
              reason: 'FieldValueInvalid',
              field: 'spec.clusterIPs',
              message: `Invalid value: ["${wanted}"]: failed to allocate IP ${wanted}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${this.ranges.cidr}`,
            },
          ]);
        }
        if (this.ips.has(n))
          throw invalid({ kind: 'Service', group: '' }, name, [
            {
              reason: 'FieldValueInvalid',
              field: 'spec.clusterIPs',
              message: `Invalid value: ["${wanted}"]: failed to allocate IP ${wanted}: provided IP is already allocated`,
            },
          ]);
        this.ips.add(n);
        taken.ip = n;
        spec['clusterIPs'] = [wanted];
      } else {
        if (this.ips.size >= this.size - 3)
          throw new ApiError('InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
        let n: number;
        // Random probing, skipping the range's first two addresses (network, kubernetes).
        do n = this.base + 2 + randomInt(this.size - 3);
        while (this.ips.has(n));
        this.ips.add(n);
        taken.ip = n;
        spec['clusterIP'] = intToIp(n);
        spec['clusterIPs'] = [intToIp(n)];
      }
    }
    if (type === 'NodePort' || type === 'LoadBalancer') {
      for (const p of portsOf(spec)) {
        const wanted = p['nodePort'];
        if (typeof wanted === 'number' && wanted !== 0) {
          if (this.ports.has(wanted)) {
            release();
            throw invalid({ kind: 'Service', group: '' }, name, [
              {
                reason: 'FieldValueInvalid',
                field: 'spec.ports[].nodePort',
                message: `Invalid value: ${wanted}: provided port is already allocated`,
              },
            ]);
          }
          this.ports.add(wanted);
          taken.ports.push(wanted);
          continue;
        }
        const span = this.ranges.nodePortMax - this.ranges.nodePortMin + 1;
        if (this.ports.size >= span) {
          release();
          throw new ApiError('InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
        }
        let port: number;
        do port = this.ranges.nodePortMin + randomInt(span);
        while (this.ports.has(port));
        this.ports.add(port);
        taken.ports.push(port);
        p['nodePort'] = port;
      }
    }
    return release;
  }

  /** Gives back what a deleted Service held. */
  release(svc: KubeObject): void {
    const spec = specOf(svc);
    const ip = spec['clusterIP'];
    if (typeof ip === 'string' && ip !== '' && ip !== 'None') this.ips.delete(ipToInt(ip));
    for (const p of portsOf(spec)) if (typeof p['nodePort'] === 'number') this.ports.delete(p['nodePort']);
  }

  /** Keeps a Service's clusterIP across updates that leave it out (as Kubernetes does). */
  carryOver(next: KubeObject, prev: KubeObject): void {
    const ns = specOf(next);
    const ps = specOf(prev);
    if ((ns['clusterIP'] === undefined || ns['clusterIP'] === '') && ps['clusterIP'] !== undefined) {
      ns['clusterIP'] = ps['clusterIP'];
      ns['clusterIPs'] = ps['clusterIPs'];
      next['spec'] = ns;
    }
  }
}
