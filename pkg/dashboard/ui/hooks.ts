// Preact hooks over the API: a live list per path, and the route in the location's hash.

import { useEffect, useState } from 'preact/hooks';
import type { KubeObject } from '../../api/meta.js';
import { watchList, type ListView } from './api.js';

/** The live list at `path` (undefined: nothing to list); restarts when the path changes. */
export function useList<T extends KubeObject>(path: string | undefined): ListView<T> {
  const [view, setView] = useState<ListView<T>>({ items: [], state: 'loading', message: '' });
  useEffect(() => {
    setView({ items: [], state: 'loading', message: '' });
    if (path === undefined) return;
    const stop = new AbortController();
    watchList<T>(path, setView, stop.signal);
    return () => stop.abort();
  }, [path]);
  return view;
}

export interface Route {
  /** The page and its arguments: `pod/NS/NAME` is ['pod', 'NS', 'NAME']. */
  parts: string[];
  /** The namespace in view; '' is every namespace. */
  namespace: string;
}

function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  const namespace = new URLSearchParams(query).get('ns') ?? '';
  return { parts: parts.length === 0 ? ['nodes'] : parts, namespace };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const changed = (): void => setRoute(parseHash(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** The hash of a page, keeping the namespace in view. */
export function href(parts: string[], namespace: string): string {
  const path = parts.map(encodeURIComponent).join('/');
  return `#/${path}${namespace === '' ? '' : `?ns=${encodeURIComponent(namespace)}`}`;
}

/** A list path, namespaced when a namespace is in view. */
export function listPath(prefix: string, plural: string, namespace: string): string {
  return namespace === '' ? `${prefix}/${plural}` : `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

/** Re-renders every `ms` (ages, "5s ago"): the clock, not the cluster, so no polling of the API. */
export function useTick(ms: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
}
