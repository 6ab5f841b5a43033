// Where a Kubernetes kind lives among the upstream protobuf packages: `apps/v1 Deployment` is
// `k8s.io.api.apps.v1.Deployment`, the core group is `core`, and a group's package is its
// first DNS label (`rbac.authorization.k8s.io` → `rbac`). The option and status kinds every
// group version carries (DeleteOptions, Status, WatchEvent…) live in meta/v1.

export const META_PACKAGE = 'k8s.io.apimachinery.pkg.apis.meta.v1';
export const RUNTIME_UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';

/** meta/v1 kinds that Kubernetes registers in every group version. */
export const META_KINDS: readonly string[] = [
  'Status',
  'DeleteOptions',
  'CreateOptions',
  'UpdateOptions',
  'PatchOptions',
  'GetOptions',
  'ListOptions',
  'WatchEvent',
];

export function protoPackageOf(group: string, version: string): string {
  const label = group === '' ? 'core' : (group.split('.')[0] ?? group);
  return `k8s.io.api.${label}.${version}`;
}

/** `apps/v1` → { group: 'apps', version: 'v1' }; `v1` → the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
