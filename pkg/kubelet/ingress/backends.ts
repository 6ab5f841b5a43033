// The endpoints a route's Service port sends to: the READY endpoints of the port (by number or
// by name), taken in turn (round-robin per Service port), read from the same caches as the
// service proxy so a change of endpoints applies to the next request.

import type { Endpoints, Service } from '../../api/index.js';
import { readyBackends } from '../proxy/rules.js';
import type { RouteTarget } from './router.js';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface BackendSources {
  services: { get(key: string): Readonly<Service> | undefined };
  endpoints: { get(key: string): Endpoints | undefined };
}

export type Pick = { endpoint: Endpoint } | { missing: 'service' | 'port' | 'endpoints' };

export class Backends {
  private readonly turns = new Map<string, number>();

  constructor(private readonly sources: BackendSources) {}

  pick(target: RouteTarget): Pick {
    const key = `${target.namespace}/${target.service}`;
    const service = this.sources.services.get(key);
    if (service === undefined) return { missing: 'service' };
    const port = (service.spec?.ports ?? []).find((p) =>
      target.port.name !== undefined ? p.name === target.port.name : p.port === target.port.number,
    );
    if (port === undefined || (port.protocol ?? 'TCP') !== 'TCP') return { missing: 'port' };
    const ready = readyBackends(this.sources.endpoints.get(key), port.name ?? '', 'TCP');
    if (ready.length === 0) return { missing: 'endpoints' };
    const turnKey = `${key}:${port.port}`;
    const turn = this.turns.get(turnKey) ?? 0;
    this.turns.set(turnKey, (turn + 1) % ready.length);
    const endpoint = ready[turn % ready.length];
    return endpoint === undefined ? { missing: 'endpoints' } : { endpoint };
  }
}
