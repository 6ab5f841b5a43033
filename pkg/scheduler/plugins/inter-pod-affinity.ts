// Required inter-pod affinity and anti-affinity: pods matching a term's label selector must
// (or must not) run in the same topology domain (node label topologyKey, e.g.
// kubernetes.io/hostname). Also the symmetric rule: existing pods' anti-affinity keeps
// matching newcomers away.

import { selectorMatches } from '../../api/selectors.js';
import type { PodAffinityTerm } from '../../api/types/index.js';
import { SUCCESS, unschedulable, type FilterPlugin, type NodeInfo, type PodView } from '../framework.js';

function terms(pod: PodView, kind: 'podAffinity' | 'podAntiAffinity'): PodAffinityTerm[] {
  return pod.spec?.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

function termMatches(term: PodAffinityTerm, owner: PodView, other: PodView): boolean {
  const namespaces =
    term.namespaces !== undefined && term.namespaces.length > 0
      ? term.namespaces
      : [owner.metadata.namespace ?? 'default'];
  if (!namespaces.includes(other.metadata.namespace ?? '')) return false;
  return selectorMatches(term.labelSelector, other.metadata.labels);
}

/** What filtering needs once per pod: whether it has terms, and the nodes with anti-affinity pods. */
interface AffinityState {
  own: boolean;
  withAnti: NodeInfo[];
}

function isAffinityState(state: unknown): state is AffinityState {
  return typeof state === 'object' && state !== null && 'own' in state && 'withAnti' in state;
}

function sameDomain(a: NodeInfo, b: NodeInfo, key: string): boolean {
  const va = a.labels[key];
  return va !== undefined && va === b.labels[key];
}

/** Whether a pod carries required anti-affinity terms (the cache indexes such pods). */
export function hasRequiredAntiAffinity(pod: PodView): boolean {
  return terms(pod, 'podAntiAffinity').length > 0;
}

export const interPodAffinity: FilterPlugin = {
  name: 'InterPodAffinity',
  // Most pods have no terms and most nodes no anti-affinity pods: find the few that matter once.
  prepare(pod, all): AffinityState {
    const own = terms(pod, 'podAffinity').length + terms(pod, 'podAntiAffinity').length > 0;
    const withAnti = all.filter((x) => x.antiAffinityPods.length > 0);
    return { own, withAnti };
  },
  filter(pod, n, { all, state }) {
    const { own, withAnti } = isAffinityState(state) ? state : { own: true, withAnti: all };
    if (!own && withAnti.length === 0) return SUCCESS;
    for (const term of terms(pod, 'podAffinity')) {
      const key = term.topologyKey;
      const anywhere = all.some((x) => x.pods.some((p) => termMatches(term, pod, p)));
      const here = all.some((x) => sameDomain(x, n, key) && x.pods.some((p) => termMatches(term, pod, p)));
      // The first pod of a group that selects itself may go anywhere (as upstream).
      const selfMatch = termMatches(term, pod, pod);
      if (!here && (anywhere || !selfMatch)) return unschedulable("node(s) didn't match pod affinity rules");
    }
    for (const term of terms(pod, 'podAntiAffinity')) {
      const key = term.topologyKey;
      if (all.some((x) => sameDomain(x, n, key) && x.pods.some((p) => termMatches(term, pod, p))))
        return unschedulable("node(s) didn't match pod anti-affinity rules");
    }
    for (const x of withAnti) {
      for (const existing of x.antiAffinityPods) {
        for (const term of terms(existing, 'podAntiAffinity')) {
          if (sameDomain(x, n, term.topologyKey) && termMatches(term, existing, pod))
            return unschedulable("node(s) didn't satisfy existing pods anti-affinity rules");
        }
      }
    }
    return SUCCESS;
  },
};
