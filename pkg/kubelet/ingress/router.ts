// The ingress router: pure matching of a request's host and path against the Ingresses of the
// built-in class, with Kubernetes' rules (networking.k8s.io/v1 Ingress docs):
// - a rule's host matches exactly, or as `*.suffix` one DNS label deep; an exact host beats a
//   wildcard, a wildcard beats a rule without host;
// - Exact matches the whole path; Prefix (and ImplementationSpecific, served as Prefix) matches
//   element-wise (`/foo` matches `/foo` and `/foo/bar`, not `/foobar`; a trailing slash is
//   ignored); the longest matching path wins, and Exact beats Prefix of the same path;
// - with no match, the oldest Ingress's defaultBackend answers, else nothing (404).
// Ties go to the oldest Ingress (creationTimestamp, then namespace/name), so a later Ingress
// cannot steal a route an earlier one holds.

import type { Ingress, IngressBackend } from '../../api/index.js';

/** Where a matched request goes: a Service port in the Ingress's namespace. */
export interface RouteTarget {
  namespace: string;
  service: string;
  port: { name?: string; number?: number };
  /** The Ingress the route comes from, `namespace/name`. */
  ingress: string;
}

interface PathRoute {
  exact: boolean;
  /** The path as compared: for Prefix, without a trailing slash ('' for `/`). */
  path: string;
  target: RouteTarget;
  /** Position of its Ingress in age order (lower is older). */
  age: number;
}

export interface RouteTable {
  /** Routes by exact host. */
  exact: Map<string, PathRoute[]>;
  /** Routes by wildcard suffix (`example.com` for `*.example.com`). */
  wildcard: Map<string, PathRoute[]>;
  /** Routes of rules without a host. */
  anyHost: PathRoute[];
  defaultBackend: RouteTarget | undefined;
}

function targetOf(ingress: Readonly<Ingress>, backend: IngressBackend | undefined): RouteTarget | undefined {
  const service = backend?.service;
  if (service === undefined || service.name === '') return undefined;
  const namespace = ingress.metadata.namespace ?? 'default';
  const port = service.port ?? {};
  return {
    namespace,
    service: service.name,
    port: port.name !== undefined && port.name !== '' ? { name: port.name } : { number: port.number ?? 0 },
    ingress: `${namespace}/${ingress.metadata.name ?? ''}`,
  };
}

function ageOrder(a: Readonly<Ingress>, b: Readonly<Ingress>): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function withoutTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.replace(/\/+$/, '') : path;
}

function push(map: Map<string, PathRoute[]>, key: string, route: PathRoute): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [route]);
  else list.push(route);
}

/** Compiles the Ingresses (already filtered to the served class) into a route table. */
export function compileRoutes(ingresses: readonly Readonly<Ingress>[]): RouteTable {
  const table: RouteTable = { exact: new Map(), wildcard: new Map(), anyHost: [], defaultBackend: undefined };
  const ordered = [...ingresses].sort(ageOrder);
  ordered.forEach((ingress, age) => {
    table.defaultBackend ??= targetOf(ingress, ingress.spec?.defaultBackend);
    for (const rule of ingress.spec?.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      for (const p of rule.http?.paths ?? []) {
        const target = targetOf(ingress, p.backend);
        if (target === undefined) continue;
        const raw = p.path === undefined || p.path === '' ? '/' : p.path;
        const exact = p.pathType === 'Exact';
        const route: PathRoute = { exact, path: exact ? raw : withoutTrailingSlash(raw), target, age };
        if (host === '') table.anyHost.push(route);
        else if (host.startsWith('*.')) push(table.wildcard, host.slice(2), route);
        else push(table.exact, host, route);
      }
    }
  });
  return table;
}

/** Whether a Prefix route's path (no trailing slash) matches the request path element-wise. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path[prefix.length] === '/';
}

function better(a: PathRoute, b: PathRoute | undefined): boolean {
  if (b === undefined) return true;
  if (a.path.length !== b.path.length) return a.path.length > b.path.length;
  if (a.exact !== b.exact) return a.exact;
  return a.age < b.age;
}

function bestPath(routes: readonly PathRoute[] | undefined, path: string): PathRoute | undefined {
  let best: PathRoute | undefined;
  for (const r of routes ?? []) {
    const hit = r.exact ? r.path === path : prefixMatches(r.path, path);
    if (hit && better(r, best)) best = r;
  }
  return best;
}

/** The request's host without its port, lower-cased (`Host: A.example:8080` → `a.example`). */
export function hostOf(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** The path of a request target, without query or fragment (`/a?b` → `/a`). */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const end = u.search(/[?#]/);
  const path = end === -1 ? u : u.slice(0, end);
  return path.startsWith('/') ? path : '/';
}

/** Where a request for `host` and `path` goes; undefined means 404. */
export function route(table: RouteTable, host: string, path: string): RouteTarget | undefined {
  const exact = bestPath(table.exact.get(host), path);
  if (exact !== undefined) return exact.target;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wildcard = bestPath(table.wildcard.get(host.slice(dot + 1)), path);
    if (wildcard !== undefined) return wildcard.target;
  }
  return bestPath(table.anyHost, path)?.target ?? table.defaultBackend;
}
