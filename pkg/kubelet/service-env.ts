/**
 * Docker-link-style environment variables for Services, as the Kubernetes
 * kubelet injects them when enableServiceLinks is true.
 */
import type { Service } from './proxy/types.js';

export interface EnvVar {
  name: string;
  value: string;
}

function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/**
 * Variables for the services visible to a pod in `namespace`: those of its own
 * namespace plus the `kubernetes` service of `default` (which wins over a
 * same-named service of the pod's namespace).
 */
export function serviceEnv(services: Service[], namespace: string): EnvVar[] {
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    if (ns === 'default' && name === 'kubernetes') byName.set(name, svc);
  }
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    if (ns === namespace && !byName.has(name)) byName.set(name, svc);
  }
  const out: EnvVar[] = [];
  for (const name of [...byName.keys()].sort()) {
    const svc = byName.get(name);
    const ip = svc?.spec?.clusterIP;
    if (ip === undefined) continue; // never: only services with a cluster IP are kept
    const ports = svc?.spec?.ports ?? [];
    const prefix = envName(name);
    const first = ports[0];
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    if (first !== undefined) out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first.port) });
    for (const p of ports) {
      if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    }
    if (first !== undefined) {
      out.push({ name: `${prefix}_PORT`, value: `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}` });
    }
    for (const p of ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const base = `${prefix}_PORT_${p.port}_${proto}`;
      out.push({ name: base, value: `${proto.toLowerCase()}://${ip}:${p.port}` });
      out.push({ name: `${base}_PROTO`, value: proto.toLowerCase() });
      out.push({ name: `${base}_PORT`, value: String(p.port) });
      out.push({ name: `${base}_ADDR`, value: ip });
    }
  }
  return out;
}
