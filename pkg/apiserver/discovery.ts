// Discovery documents, generated from the resource registry: the aggregated form
// (apidiscovery.k8s.io/v2, chosen by the Accept header and answered with its exact
// Content-Type) and the legacy per-group-version lists (which `kubectl drain` and
// `auth can-i` read even when aggregated discovery is served).

import { groupVersions, resourcesIn, RESOURCE_LIST, type ResourceInfo } from '../api/registry.js';

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-coxswain',
  gitCommit: 'coxswain',
  gitTreeState: 'clean',
  buildDate: '2026-11-01T00:00:00Z',
  goVersion: 'node' + process.versions.node,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** Which aggregated discovery version the client accepts, if any (v2 preferred). */
export function acceptsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (accept === undefined) return undefined;
  const compact = accept.replace(/\s+/g, '');
  if (compact.includes('g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')) return 'v2';
  if (compact.includes('g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList')) return 'v2beta1';
  return undefined;
}

export function aggregatedContentType(version: 'v2' | 'v2beta1'): string {
  return version === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1;
}

function discoveryResource(r: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
  };
  if (r.shortNames.length > 0) out['shortNames'] = r.shortNames;
  if (r.categories.length > 0) out['categories'] = r.categories;
  if (r.subresources.length > 0) {
    out['subresources'] = r.subresources.map((s) => ({
      subresource: s.name,
      responseKind: s.responseKind,
      verbs: s.verbs,
    }));
  }
  return out;
}

function groupDiscovery(group: string): Record<string, unknown> {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({
      version: gv.version,
      freshness: 'Current',
      resources: resourcesIn(gv.group, gv.version).map(discoveryResource),
    }));
  return { metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null }, versions };
}

function apiGroupNames(): string[] {
  return [...new Set(RESOURCE_LIST.map((r) => r.group).filter((g) => g !== ''))];
}

/** `/api` or `/apis` in aggregated form. */
export function aggregatedDiscovery(root: 'api' | 'apis', version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const items = root === 'api' ? [groupDiscovery('')] : apiGroupNames().map(groupDiscovery);
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

/** Legacy `/api`. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(group: string): Record<string, unknown> {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** Legacy `/apis`. */
export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroupNames().map(groupEntry) };
}

/** Legacy `/apis/<group>`; undefined for an unknown group. */
export function apiGroup(group: string): Record<string, unknown> | undefined {
  if (!apiGroupNames().includes(group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

/** Legacy `/api/v1` or `/apis/<group>/<version>`; undefined when not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const resources = resourcesIn(group, version);
  if (resources.length === 0) return undefined;
  const list: Record<string, unknown>[] = [];
  for (const r of resources) {
    const entry: Record<string, unknown> = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames.length > 0) entry['shortNames'] = r.shortNames;
    if (r.categories.length > 0) entry['categories'] = r.categories;
    list.push(entry);
    for (const s of r.subresources) {
      const sub: Record<string, unknown> = {
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s.responseKind.kind,
        verbs: s.verbs,
      };
      // A subresource of another group (pods/eviction → policy/v1) names it, as drain checks.
      if (s.responseKind.group !== group || s.responseKind.version !== version) {
        sub['group'] = s.responseKind.group;
        sub['version'] = s.responseKind.version;
      }
      list.push(sub);
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: list,
  };
}
