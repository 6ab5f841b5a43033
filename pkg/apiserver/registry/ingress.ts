// Ingresses: a new Ingress that names no class (neither spec.ingressClassName nor the legacy
// `kubernetes.io/ingress.class` annotation) gets the default IngressClass, as Kubernetes'
// DefaultIngressClass admission plugin does; the newest default wins when several are marked.

import { storageKey } from '../../api/index.js';
import { DEFAULT_INGRESS_CLASS_ANNOTATION } from '../../api/ingress-class.js';
import { RESOURCES } from '../../api/registry.js';
import type { IngressClass } from '../../api/types/index.js';
import type { Store } from '../../storage/index.js';
import { storedAs } from '../write-meta.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The default class among `classes`: the newest of those annotated default. */
export function defaultIngressClassOf(classes: readonly IngressClass[]): IngressClass | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true');
  defaults.sort(
    (a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  return defaults[0];
}

/** The Ingress strategy; without a store, Ingresses are stored as sent. */
export function ingressStrategies(store: Store | undefined): [string, Strategy][] {
  if (store === undefined) return [];
  const strategy: Strategy = {
    ...defaultStrategy,
    async admitCreate(obj) {
      const ingress = storedAs(RESOURCES.ingresses, obj);
      const spec = ingress.spec ?? {};
      if (spec.ingressClassName !== undefined) return [];
      if (ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return [];
      const classes = (await store.list(storageKey(RESOURCES.ingressclasses))).items.map((i) =>
        storedAs(RESOURCES.ingressclasses, i.object),
      );
      const chosen = defaultIngressClassOf(classes)?.metadata.name;
      if (chosen !== undefined) obj['spec'] = { ...spec, ingressClassName: chosen };
      return [];
    },
  };
  return [['networking.k8s.io/ingresses', strategy]];
}
