// Services' ClusterIPs (from the service CIDR, default 10.96.0.0/12; the first address is
// the `kubernetes` Service's) and NodePorts (30000-32767), allocated in the store as
// Kubernetes does: two RangeAllocation bitmaps (`/registry/ranges/serviceips` and
// `/registry/ranges/servicenodeports`) changed by compare-and-swap (range-allocation.ts), so
// any number of apiservers on one store never hand out one address twice.
//
// The repair pass (Kubernetes' repair controllers, at start and every few minutes) rebuilds
// the bitmaps from the stored Services: an address a Service holds is marked; a marked
// address no Service holds is a leak (an apiserver died between allocating and writing the
// Service) and is freed only once it has been seen leaked in LEAK_PASSES consecutive passes,
// so an address a concurrent create has just taken is never freed under it.

import { isObject, type KubeObject } from '../api/meta.js';
import { ApiError, invalid } from '../errors/index.js';
import { intToIp, ipToInt } from '../api/cidr.js';
import type { Store } from '../storage/store.js';
import type { Bitmap } from './range-allocation.js';
import { StoredRange } from './range-allocation.js';

/** Store keys of the two bitmaps (under the same root as every object). */
export const SERVICE_IPS_KEY = '/registry/ranges/serviceips';
export const SERVICE_NODE_PORTS_KEY = '/registry/ranges/servicenodeports';
/** Consecutive repair passes an address must be seen leaked in before it is freed (Kubernetes: 3). */
const LEAK_PASSES = 3;

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

const isIPv4 = (s: string): boolean => /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(s);

function serviceInvalid(name: string, field: string, message: string): ApiError {
  return invalid({ kind: 'Service', group: '' }, name, [{ reason: 'FieldValueInvalid', field, message }]);
}

/** What one repair pass did. */
export interface RepairOutcome {
  added: number;
  freed: number;
}

export class ServiceAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly ips: StoredRange;
  private readonly ports: StoredRange;
  /** Leaked offsets and the consecutive passes they were seen leaked in, per bitmap. */
  private readonly leaks = { ips: new Map<number, number>(), ports: new Map<number, number>() };

  constructor(
    store: Store,
    private readonly ranges: ServiceRanges = DEFAULT_SERVICE_RANGES,
  ) {
    const [addr, bits] = ranges.cidr.split('/');
    this.size = 2 ** (32 - Number(bits));
    this.base = ipToInt(addr ?? '10.96.0.0');
    // Offsets 0 (the network) to size-2; the last address (broadcast) is never handed out.
    this.ips = new StoredRange(store, { key: SERVICE_IPS_KEY, range: ranges.cidr }, this.size - 1);
    const span = ranges.nodePortMax - ranges.nodePortMin + 1;
    const portRange = `${ranges.nodePortMin}-${ranges.nodePortMax}`;
    this.ports = new StoredRange(store, { key: SERVICE_NODE_PORTS_KEY, range: portRange }, span);
  }

  /** The address of the `kubernetes` Service: the first of the range. */
  apiserverServiceIP(): string {
    return intToIp(this.base + 1);
  }

  private ipOffset(ip: unknown): number | undefined {
    if (typeof ip !== 'string' || !isIPv4(ip)) return undefined;
    const offset = ipToInt(ip) - this.base;
    return offset > 0 && offset < this.size - 1 ? offset : undefined;
  }

  private portOffset(port: unknown): number | undefined {
    if (typeof port !== 'number' || !Number.isInteger(port)) return undefined;
    const offset = port - this.ranges.nodePortMin;
    return offset >= 0 && port <= this.ranges.nodePortMax ? offset : undefined;
  }

  /**
   * Fills clusterIP(s) and nodePorts of a Service about to be created, taking them in the
   * store; throws Invalid on conflicts. Returns the undo (a refused or dry-run create).
   */
  async allocate(svc: KubeObject, how: { dryRun?: boolean } = {}): Promise<() => Promise<void>> {
    // A dry run decides on the stored bitmaps and keeps nothing (Kubernetes' dry-run allocator).
    const dry = how.dryRun === true;
    const spec = specOf(svc);
    svc['spec'] = spec;
    const type = String(spec['type'] ?? 'ClusterIP');
    const name = svc.metadata.name ?? '';
    let ip: number | undefined;
    const undo = async (): Promise<void> => {
      const taken = ip;
      if (taken !== undefined && !dry)
        await this.ips.change(false, (b) => ({ result: undefined, changed: b.clear(taken) }));
    };
    if (type !== 'ExternalName') {
      const wanted = spec['clusterIP'];
      if (wanted === 'None') {
        spec['clusterIPs'] = ['None'];
      } else if (typeof wanted === 'string' && wanted !== '') {
        const offset = this.ipOffset(wanted);
        if (offset === undefined)
          throw serviceInvalid(
            name,
            'spec.clusterIPs',
            `Invalid value: ["${wanted}"]: failed to allocate IP ${wanted}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${this.ranges.cidr}`,
          );
        ip = await this.ips.change(dry, (b) => {
          if (!b.set(offset))
            throw serviceInvalid(
              name,
              'spec.clusterIPs',
              `Invalid value: ["${wanted}"]: failed to allocate IP ${wanted}: provided IP is already allocated`,
            );
          return { result: offset, changed: true };
        });
        spec['clusterIPs'] = [wanted];
      } else {
        // Random, skipping the range's first two addresses (network, kubernetes).
        ip = await this.ips.change(dry, (b) => {
          const offset = b.randomFree(2);
          if (offset === undefined || !b.set(offset))
            throw new ApiError(
              'InternalError',
              'Internal error occurred: failed to allocate a serviceIP: range is full',
            );
          return { result: offset, changed: true };
        });
        spec['clusterIP'] = intToIp(this.base + ip);
        spec['clusterIPs'] = [intToIp(this.base + ip)];
      }
    }
    if (type !== 'NodePort' && type !== 'LoadBalancer') return undo;
    const entries = portsOf(spec);
    let chosen: number[];
    try {
      chosen = await this.ports.change(dry, (b) => ({ result: this.takePorts(b, entries, name), changed: true }));
    } catch (err) {
      await undo();
      throw err;
    }
    chosen.forEach((port, i) => {
      const entry = entries[i];
      if (entry !== undefined) entry['nodePort'] = port;
    });
    return async () => {
      await undo();
      if (dry) return;
      await this.ports.change(false, (b) => ({
        result: undefined,
        changed: chosen.map((p) => this.portOffset(p)).some((o) => o !== undefined && b.clear(o)),
      }));
    };
  }

  /** The node port of each entry (the one asked for, or a free one), marked in `b`. */
  private takePorts(b: Bitmap, entries: Record<string, unknown>[], name: string): number[] {
    return entries.map((entry) => {
      const wanted = entry['nodePort'];
      if (typeof wanted === 'number' && wanted !== 0) {
        const offset = this.portOffset(wanted);
        if (offset === undefined)
          throw serviceInvalid(
            name,
            'spec.ports[].nodePort',
            `Invalid value: ${wanted}: provided port is not in the valid range. The range of valid ports is ${this.ranges.nodePortMin}-${this.ranges.nodePortMax}`,
          );
        if (!b.set(offset))
          throw serviceInvalid(
            name,
            'spec.ports[].nodePort',
            `Invalid value: ${wanted}: provided port is already allocated`,
          );
        return wanted;
      }
      const offset = b.randomFree(0);
      if (offset === undefined || !b.set(offset))
        throw new ApiError('InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
      return this.ranges.nodePortMin + offset;
    });
  }

  /** Gives back what a deleted Service held. */
  async release(svc: KubeObject): Promise<void> {
    const spec = specOf(svc);
    const ip = this.ipOffset(spec['clusterIP']);
    if (ip !== undefined) await this.ips.change(false, (b) => ({ result: undefined, changed: b.clear(ip) }));
    const ports = portsOf(spec)
      .map((p) => this.portOffset(p['nodePort']))
      .filter((o): o is number => o !== undefined);
    if (ports.length > 0)
      await this.ports.change(false, (b) => ({
        result: undefined,
        changed: ports.map((o) => b.clear(o)).some(Boolean),
      }));
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

  /**
   * One repair pass: reads each bitmap, then the Services (so a Service written after the
   * read is in the list, or its allocation makes the write below conflict), marks what they
   * hold and frees what has been leaked for LEAK_PASSES passes; the write is a
   * compare-and-swap on the revision read (a conflict leaves it to the next pass).
   */
  async repair(listServices: () => Promise<KubeObject[]>): Promise<{ ips: RepairOutcome; ports: RepairOutcome }> {
    const ipsRead = await this.ips.read();
    const portsRead = await this.ports.read();
    const services = await listServices();
    const heldIps = new Set<number>();
    const heldPorts = new Set<number>();
    for (const svc of services) {
      const spec = specOf(svc);
      const ip = this.ipOffset(spec['clusterIP']);
      if (ip !== undefined) heldIps.add(ip);
      for (const p of portsOf(spec)) {
        const port = this.portOffset(p['nodePort']);
        if (port !== undefined) heldPorts.add(port);
      }
    }
    return {
      ips: await this.repairOne(this.ips, { read: ipsRead, held: heldIps, leaks: this.leaks.ips }),
      ports: await this.repairOne(this.ports, { read: portsRead, held: heldPorts, leaks: this.leaks.ports }),
    };
  }

  private async repairOne(
    range: StoredRange,
    pass: { read: { bitmap: Bitmap; revision: number }; held: Set<number>; leaks: Map<number, number> },
  ): Promise<RepairOutcome> {
    const { read, held, leaks } = pass;
    const outcome: RepairOutcome = { added: 0, freed: 0 };
    const freeing: number[] = [];
    const seen = new Map<number, number>();
    for (const offset of read.bitmap.offsets()) {
      if (held.has(offset)) continue;
      const passes = (leaks.get(offset) ?? 0) + 1;
      if (passes >= LEAK_PASSES) freeing.push(offset);
      else seen.set(offset, passes);
    }
    // Offsets no longer leaked (their Service appeared, or they were freed) start over.
    leaks.clear();
    for (const [offset, passes] of seen) leaks.set(offset, passes);
    const missing = [...held].filter((o) => !read.bitmap.has(o));
    if (freeing.length === 0 && missing.length === 0) return outcome;
    try {
      await range.changeAt(read.revision, (b) => {
        for (const o of missing) if (b.set(o)) outcome.added++;
        for (const o of freeing) if (b.clear(o)) outcome.freed++;
      });
    } catch (err) {
      // Changed since the read: the next pass looks again (the leaks stay counted).
      if (!(err instanceof ApiError && err.reason === 'Conflict')) throw err;
      for (const o of freeing) leaks.set(o, LEAK_PASSES - 1);
      return { added: 0, freed: 0 };
    }
    return outcome;
  }
}
