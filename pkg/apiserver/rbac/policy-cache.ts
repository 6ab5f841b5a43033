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

export class RbacPolicyCache implements PolicySource {
  private readonly roles: StoreMirror<Role>;
  private readonly clusterRoles: StoreMirror<ClusterRole>;
  private readonly bindings: StoreMirror<RoleBinding>;
  private readonly clusterBindings: StoreMirror<ClusterRoleBinding>;
  /** Namespace → binding key → binding. */
  private readonly bindingsByNamespace = new Map<string, Map<string, Readonly<RoleBinding>>>();
  private clusterBindingList: readonly BindingRef[] | undefined;

  constructor(store: Store, log?: (message: string) => void) {
    const base = { store, ...(log === undefined ? {} : { log }) };
    this.roles = new StoreMirror({ ...base, prefix: storageKey(RESOURCES.roles), accept: isRole });
    this.clusterRoles = new StoreMirror({ ...base, prefix: storageKey(RESOURCES.clusterroles), accept: isClusterRole });
    this.bindings = new StoreMirror({
      ...base,
      prefix: storageKey(RESOURCES.rolebindings),
      accept: isRoleBinding,
      onChange: ({ type, object, previous }) => {
        if (previous !== undefined) this.unindex(previous);
        if (type !== 'DELETED') this.index(object);
      },
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
    return this.roles.get(storageKey(RESOURCES.roles, namespace, name));
  }

  clusterRole(name: string): RoleRules | undefined {
    return this.clusterRoles.get(storageKey(RESOURCES.clusterroles, undefined, name));
  }

  roleBindings(namespace: string): readonly BindingRef[] {
    const m = this.bindingsByNamespace.get(namespace);
    return m === undefined ? [] : [...m.values()];
  }

  clusterRoleBindings(): readonly BindingRef[] {
    this.clusterBindingList ??= [...this.clusterBindings.values()];
    return this.clusterBindingList;
  }

  /** Every ClusterRole, for the aggregation controller's view and SelfSubjectRulesReview. */
  allClusterRoles(): Readonly<ClusterRole>[] {
    return [...this.clusterRoles.values()];
  }

  private index(b: Readonly<RoleBinding>): void {
    const ns = b.metadata.namespace ?? '';
    let m = this.bindingsByNamespace.get(ns);
    if (m === undefined) this.bindingsByNamespace.set(ns, (m = new Map()));
    m.set(b.metadata.name ?? '', b);
  }

  private unindex(b: Readonly<RoleBinding>): void {
    const ns = b.metadata.namespace ?? '';
    const m = this.bindingsByNamespace.get(ns);
    m?.delete(b.metadata.name ?? '');
    if (m?.size === 0) this.bindingsByNamespace.delete(ns);
  }
}
