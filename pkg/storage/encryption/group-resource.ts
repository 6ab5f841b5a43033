// Resources as the EncryptionConfiguration names them: `<plural>.<group>`, the core group
// empty (`secrets`), and the wildcards `*.<group>`, `*.` (every core resource) and `*.*`.

/** A resource of an API group; the core group is ''. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** Splits at the first dot, as Kubernetes' schema.ParseGroupResource: `*.` is {group: '', resource: '*'}. */
export function parseGroupResource(text: string): GroupResource {
  const dot = text.indexOf('.');
  if (dot < 0) return { group: '', resource: text };
  return { group: text.slice(dot + 1), resource: text.slice(0, dot) };
}

/** The config's spelling of a group-resource (Kubernetes' grYAMLString): `secrets`, `*.`, `*.apps`. */
export function formatGroupResource({ group, resource }: GroupResource): string {
  if (group === '') return resource === '*' ? '*.' : resource;
  return `${resource}.${group}`;
}

/**
 * The group-resource of a store key (`/registry/<group>/<plural>/...`, the core group spelled
 * `core`), or undefined for a key of another shape.
 */
export function groupResourceOfStorageKey(key: string): GroupResource | undefined {
  const parts = key.split('/');
  const [empty, registry, group, resource] = parts;
  if (empty !== '' || registry !== 'registry' || group === undefined || resource === undefined) return undefined;
  if (group === '' || resource === '') return undefined;
  return { group: group === 'core' ? '' : group, resource };
}
