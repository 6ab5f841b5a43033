// kubectl describe service: addressing, each port with its target and ready endpoints (from
// the Service's EndpointSlices, at most three shown), traffic policies.

import type { EndpointSlice, Event, Service } from '../../api/types/index.js';
import { formatLabels, printAnnotations, printEvents, printLabels } from './common.js';
import { LEVEL_0, PrefixWriter } from './prefix-writer.js';

const SHOWN_ENDPOINTS = 3;

/** Ready endpoints of the slices' ports named `portName`, as `ip:port`, the first three then `+ N more...`. */
export function endpointsText(slices: readonly EndpointSlice[], portName: string): string {
  if (slices.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const slice of slices) {
    const ready = slice.endpoints.filter((e) => e.conditions?.ready !== false && e.addresses.length > 0);
    const ports = slice.ports ?? [];
    if (ports.length === 0) {
      for (const e of ready) {
        if (list.length < SHOWN_ENDPOINTS) list.push(e.addresses[0] ?? '');
        count++;
      }
      continue;
    }
    for (const port of ports) {
      if ((port.name ?? '') !== portName) continue;
      for (const e of ready) {
        const address = e.addresses[0] ?? '';
        if (list.length < SHOWN_ENDPOINTS)
          list.push(`${address.includes(':') ? `[${address}]` : address}:${port.port ?? ''}`);
        count++;
      }
    }
  }
  const text = list.join(',');
  return count > SHOWN_ENDPOINTS ? `${text} + ${count - SHOWN_ENDPOINTS} more...` : text;
}

export function describeService(
  svc: Service,
  related: { events: readonly Event[] | undefined; endpointSlices: readonly EndpointSlice[] },
  now: Date,
): string {
  const w = new PrefixWriter();
  const spec = svc.spec;
  w.write(LEVEL_0, `Name:\t${svc.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${svc.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', svc.metadata.labels);
  printAnnotations(w, 'Annotations', svc.metadata.annotations);
  w.write(LEVEL_0, `Selector:\t${formatLabels(spec?.selector)}\n`);
  w.write(LEVEL_0, `Type:\t${spec?.type ?? ''}\n`);
  if (spec?.ipFamilyPolicy !== undefined) w.write(LEVEL_0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  w.write(LEVEL_0, `IP Families:\t${(spec?.ipFamilies ?? []).join(',') || '<none>'}\n`);
  w.write(LEVEL_0, `IP:\t${spec?.clusterIP ?? ''}\n`);
  w.write(LEVEL_0, `IPs:\t${(spec?.clusterIPs ?? []).join(',') || '<none>'}\n`);
  if ((spec?.externalIPs ?? []).length > 0) w.write(LEVEL_0, `External IPs:\t${(spec?.externalIPs ?? []).join(',')}\n`);
  if (spec?.loadBalancerIP) w.write(LEVEL_0, `Desired LoadBalancer IP:\t${spec.loadBalancerIP}\n`);
  if (spec?.externalName) w.write(LEVEL_0, `External Name:\t${spec.externalName}\n`);
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length > 0)
    w.write(LEVEL_0, `LoadBalancer Ingress:\t${ingress.map((i) => i.ip || i.hostname || '').join(', ')}\n`);
  for (const p of spec?.ports ?? []) {
    const name = p.name || '<unset>';
    const protocol = p.protocol ?? 'TCP';
    w.write(LEVEL_0, `Port:\t${name}\t${p.port}/${protocol}\n`);
    w.write(LEVEL_0, `TargetPort:\t${String(p.targetPort ?? p.port)}/${protocol}\n`);
    if (p.appProtocol !== undefined) w.write(LEVEL_0, `AppProtocol:\t${p.appProtocol}\n`);
    if (p.nodePort) w.write(LEVEL_0, `NodePort:\t${name}\t${p.nodePort}/${protocol}\n`);
    w.write(LEVEL_0, `Endpoints:\t${endpointsText(related.endpointSlices, p.name ?? '')}\n`);
  }
  w.write(LEVEL_0, `Session Affinity:\t${spec?.sessionAffinity ?? ''}\n`);
  if (spec?.externalTrafficPolicy) w.write(LEVEL_0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec?.internalTrafficPolicy !== undefined)
    w.write(LEVEL_0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}
