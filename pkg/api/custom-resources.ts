// The registry entries a CustomResourceDefinition adds: one per served version, in Kubernetes'
// version priority (the first is the preferred version). The apiserver serves them; the
// controller-manager's dynamic informers (garbage collector, namespace deletion) watch them.

import type { GroupVersionKind, ResourceInfo, SubresourceInfo } from './registry.js';
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionVersion,
} from './types/apiextensions.js';

/** Kubernetes' version priority: GA before beta before alpha, higher numbers first, others last by name. */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (m === null) return [3, 0, 0, v];
    const level = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [level, -Number(m[1]), -Number(m[3] ?? 0), v];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return Number(ra[i]) - Number(rb[i]);
  return ra[3].localeCompare(rb[3]);
}

const STATUS_VERBS = ['get', 'patch', 'update'];

/** The registry entries serving a CRD's served versions, in Kubernetes' version priority. */
export function customResourcesOf(crd: CustomResourceDefinition): ResourceInfo[] {
  const { group, names, scope } = crd.spec;
  const served = crd.spec.versions.filter((v) => v.served).sort((a, b) => compareKubeVersions(a.name, b.name));
  return served.map((v) =>
    resourceOfVersion(
      {
        group,
        names,
        namespaced: scope !== 'Cluster',
        crd: crd.metadata.name ?? '',
        terminating: crd.metadata.deletionTimestamp !== undefined,
      },
      v,
    ),
  );
}

function resourceOfVersion(
  crd: { group: string; names: CustomResourceDefinitionNames; namespaced: boolean; crd: string; terminating: boolean },
  v: CustomResourceDefinitionVersion,
): ResourceInfo {
  const { group, names } = crd;
  const self: GroupVersionKind = { group, version: v.name, kind: names.kind };
  const subresources: SubresourceInfo[] = [];
  if (v.subresources?.status !== undefined)
    subresources.push({ name: 'status', responseKind: self, verbs: STATUS_VERBS });
  if (v.subresources?.scale !== undefined)
    subresources.push({
      name: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: STATUS_VERBS,
    });
  return {
    group,
    version: v.name,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    namespaced: crd.namespaced,
    categories: names.categories ?? [],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources,
    custom: {
      crd: crd.crd,
      schema: v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      printerColumns: v.additionalPrinterColumns ?? [],
      scale: v.subresources?.scale,
      terminating: crd.terminating,
    },
  };
}
