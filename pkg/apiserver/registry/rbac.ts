// Roles and bindings: RBAC's escalation prevention. A user may write a role only with rules it
// already holds (where the role applies), unless it may `escalate` roles; and may bind a role
// only if it holds the role's rules, unless it may `bind` that role — as Kubernetes checks.
// The server's own writes (the default policy) carry no user and are not checked.

import { isObject, type KubeObject, type PolicyRule } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import type { UserInfo } from '../authn.js';
import { decide, SUPERUSER_GROUP, type AuthorizerSources } from '../authorizer.js';
import { rulesFor } from '../rbac/authorizer.js';
import { describeRule, uncoveredRules } from '../rbac/escalation.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function rulesOf(obj: Readonly<KubeObject>): PolicyRule[] {
  const rules = obj['rules'];
  return Array.isArray(rules) ? rules.filter((r): r is PolicyRule => isObject(r) && Array.isArray(r['verbs'])) : [];
}

function refused(what: { plural: string; name: string }, user: UserInfo, missing: PolicyRule[]): ApiError {
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  return new ApiError(
    'Forbidden',
    `${what.plural}.${RBAC_GROUP} "${what.name}" is forbidden: user "${user.name}" (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(describeRule).join('\n')}`,
    { details: { name: what.name, group: RBAC_GROUP, kind: what.plural } },
  );
}

/** Whether the user may do `verb` to the named role outright (escalate, bind). */
function may(
  authz: AuthorizerSources,
  user: UserInfo,
  at: { verb: string; plural: string; namespace?: string; name: string },
): boolean {
  const { verb, plural, namespace, name } = at;
  return decide(authz, user, { kind: 'resource', verb, apiGroup: RBAC_GROUP, resource: plural, namespace, name })
    .allowed;
}

function roleStrategy(authz: AuthorizerSources, plural: 'roles' | 'clusterroles'): Strategy {
  return {
    ...defaultStrategy,
    checkWrite(obj, user) {
      if (user === undefined || user.groups.includes(SUPERUSER_GROUP)) return;
      const namespace = plural === 'roles' ? obj.metadata.namespace : undefined;
      const name = obj.metadata.name ?? '';
      if (may(authz, user, { verb: 'escalate', plural, ...(namespace === undefined ? {} : { namespace }), name }))
        return;
      const missing = uncoveredRules(rulesFor(authz.rbac, user, namespace), rulesOf(obj));
      if (missing.length > 0) throw refused({ plural, name }, user, missing);
    },
  };
}

function bindingStrategy(authz: AuthorizerSources, plural: 'rolebindings' | 'clusterrolebindings'): Strategy {
  return {
    ...defaultStrategy,
    checkWrite(obj, user) {
      if (user === undefined || user.groups.includes(SUPERUSER_GROUP)) return;
      const ref = obj['roleRef'];
      if (!isObject(ref) || typeof ref['name'] !== 'string') return; // validation answers a malformed roleRef
      const roleName = ref['name'];
      const clusterRole = ref['kind'] === 'ClusterRole';
      const namespace = plural === 'rolebindings' ? obj.metadata.namespace : undefined;
      const rolePlural = clusterRole ? 'clusterroles' : 'roles';
      const target = {
        verb: 'bind',
        plural: rolePlural,
        name: roleName,
        ...(namespace === undefined ? {} : { namespace }),
      };
      if (may(authz, user, target)) return;
      const role = clusterRole ? authz.rbac.clusterRole(roleName) : authz.rbac.role(namespace ?? '', roleName);
      const missing = uncoveredRules(rulesFor(authz.rbac, user, namespace), role?.rules ?? []);
      if (missing.length > 0) throw refused({ plural, name: obj.metadata.name ?? '' }, user, missing);
    },
  };
}

/** The four RBAC kinds, keyed like the strategy table. */
export function rbacStrategies(authz: AuthorizerSources): [string, Strategy][] {
  return [
    [`${RBAC_GROUP}/roles`, roleStrategy(authz, 'roles')],
    [`${RBAC_GROUP}/clusterroles`, roleStrategy(authz, 'clusterroles')],
    [`${RBAC_GROUP}/rolebindings`, bindingStrategy(authz, 'rolebindings')],
    [`${RBAC_GROUP}/clusterrolebindings`, bindingStrategy(authz, 'clusterrolebindings')],
  ];
}
