// The roles and bindings RBAC decides with, kept in memory from the watch cache (store-mirror.ts)
// and indexed the way the authorizer asks: bindings by namespace, roles by name. Stored objects
// pass a shape check first, so a malformed role grants nothing instead of crashing a request.

import {
  RESOURCES,
  isObject,
  storageKey,
  type ClusterRole,
  type ClusterRoleBinding,
  type KubeObject,
  type PolicyRule,
  type Role,
  type RoleBinding,
} from '../../api/index.js';
import type { Store } from '../../storage/index.js';
import { StoreMirror } from '../store-mirror.js';
import type { BindingRef, PolicySource, RoleRules } from './authorizer.js';

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const optionalStrings = (v: unknown): boolean => v === undefined || isStringArray(v);

function isPolicyRule(v: unknown): v is PolicyRule {
  return (
    isObject(v) &&
    isStringArray(v['verbs']) &&
    optionalStrings(v['apiGroups']) &&
    optionalStrings(v['resources']) &&
    optionalStrings(v['resourceNames']) &&
    optionalStrings(v['nonResourceURLs'])
  );
}

function hasRules(o: KubeObject): boolean {
  const rules = o['rules'];
  return rules === undefined || (Array.isArray(rules) && rules.every(isPolicyRule));
}

function hasBindingShape(o: KubeObject): boolean {
  const ref = o['roleRef'];
  const subjects = o['subjects'];
  const refOk =
    isObject(ref) && (ref['kind'] === 'Role' || ref['kind'] === 'ClusterRole') && typeof ref['name'] === 'string';
  const subjectOk = (s: unknown): boolean =>
    isObject(s) &&
    (s['kind'] === 'User' || s['kind'] === 'Group' || s['kind'] === 'ServiceAccount') &&
    typeof s['name'] === 'string' &&
    (s['namespace'] === undefined || typeof s['namespace'] === 'string');
  return refOk && (subjects === undefined || (Array.isArray(subjects) && subjects.every(subjectOk)));
}

const isRole = (o: KubeObject): o is Role => hasRules(o);
const isClusterRole = (o: KubeObject): o is ClusterRole => hasRules(o);
const isRoleBinding = (o: KubeObject): o is RoleBinding => hasBindingShape(o);
const isClusterRoleBinding = (o: KubeObject): o is ClusterRoleBinding => hasBindingShape(o);

/**
 * Objects by namespace, then name. The authorizer looks roles up by the short names it already
 * holds (a roleRef's) instead of a storage key built per request, whose hashing showed up as a
 * quarter of a decision's time; each namespace's binding list is kept as an array until it changes.
 */
class NamespacedIndex<T extends KubeObject> {
  private readonly byNamespace = new Map<string, Map<string, Readonly<T>>>();
  private readonly lists = new Map<string, readonly Readonly<T>[]>();

  apply({ type, object, previous }: { type: string; object: Readonly<T>; previous: Readonly<T> | undefined }): void {
    if (previous !== undefined) this.remove(previous);
    if (type !== 'DELETED') this.add(object);
  }

  get(namespace: string, name: string): Readonly<T> | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  list(namespace: string): readonly Readonly<T>[] {
    let list = this.lists.get(namespace);
    if (list === undefined) {
      list = [...(this.byNamespace.get(namespace)?.values() ?? [])];
      this.lists.set(namespace, list);
    }
    return list;
  }

  private add(o: Readonly<T>): void {
    const ns = o.metadata.namespace ?? '';
    let m = this.byNamespace.get(ns);
    if (m === undefined) this.byNamespace.set(ns, (m = new Map()));
    m.set(o.metadata.name ?? '', o);
    this.lists.delete(ns);
  }

  private remove(o: Readonly<T>): void {
    const ns = o.metadata.namespace ?? '';
    const m = this.byNamespace.get(ns);
    m?.delete(o.metadata.name ?? '');
    if (m?.size === 0) this.byNamespace.delete(ns);
    this.lists.delete(ns);
  }
}

export class RbacPolicyCache implements PolicySource {
  private readonly roles: StoreMirror<Role>;
  private readonly clusterRoles: StoreMirror<ClusterRole>;
  private readonly bindings: StoreMirror<RoleBinding>;
  private readonly clusterBindings: StoreMirror<ClusterRoleBinding>;
  private readonly rolesByNamespace = new NamespacedIndex<Role>();
  /** Cluster-scoped: every entry is under the namespace ''. */
  private readonly clusterRolesByName = new NamespacedIndex<ClusterRole>();
  private readonly bindingsByNamespace = new NamespacedIndex<RoleBinding>();
  private clusterBindingList: readonly BindingRef[] | undefined;

  constructor(store: Store, log?: (message: string) => void) {
    const base = { store, ...(log === undefined ? {} : { log }) };
    this.roles = new StoreMirror({
      ...base,
      prefix: storageKey(RESOURCES.roles),
      accept: isRole,
      onChange: (change) => this.rolesByNamespace.apply(change),
    });
    this.clusterRoles = new StoreMirror({
      ...base,
      prefix: storageKey(RESOURCES.clusterroles),
      accept: isClusterRole,
      onChange: (change) => this.clusterRolesByName.apply(change),
    });
    this.bindings = new StoreMirror({
      ...base,
      prefix: storageKey(RESOURCES.rolebindings),
      accept: isRoleBinding,
      onChange: (change) => this.bindingsByNamespace.apply(change),
    });
    this.clusterBindings = new StoreMirror({
      ...base,
      prefix: storageKey(RESOURCES.clusterrolebindings),
      accept: isClusterRoleBinding,
      onChange: () => (this.clusterBindingList = undefined),
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.roles, this.clusterRoles, this.bindings, this.clusterBindings].map((m) => m.start()));
  }

  stop(): void {
    for (const m of [this.roles, this.clusterRoles, this.bindings, this.clusterBindings]) m.stop();
  }

  role(namespace: string, name: string): RoleRules | undefined {
    return this.rolesByNamespace.get(namespace, name);
  }

  clusterRole(name: string): RoleRules | undefined {
    return this.clusterRolesByName.get('', name);
  }

  roleBindings(namespace: string): readonly BindingRef[] {
    return this.bindingsByNamespace.list(namespace);
  }

  clusterRoleBindings(): readonly BindingRef[] {
    this.clusterBindingList ??= [...this.clusterBindings.values()];
    return this.clusterBindingList;
  }

  /** Every ClusterRole, for the aggregation controller's view and SelfSubjectRulesReview. */
  allClusterRoles(): Readonly<ClusterRole>[] {
    return [...this.clusterRoles.values()];
  }
}
