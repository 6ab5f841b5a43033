// `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and `Impersonate-Extra-<key>`
// (kubectl's `--as`, `--as-group`, `--as-uid`): the caller acts as another identity if it may
// `impersonate` each part of it — users (or the ServiceAccount), every group, the uid and each
// extra value — as kube-apiserver checks them. Without the headers nothing changes.

import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../errors/index.js';
import type { UserInfo } from './authn.js';
import { forbidden } from './authorizer.js';
import type { ResourceAttributes } from './rbac/rules.js';

export interface ImpersonatedUser extends UserInfo {
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Asks the authorizer whether the caller may do one thing. */
export type Check = (user: UserInfo, attributes: ResourceAttributes) => Promise<boolean>;

const SA_PREFIX = 'system:serviceaccount:';
const EXTRA_PREFIX = 'impersonate-extra-';

function values(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header : [header]).map((v) => v.trim()).filter((v) => v !== '');
}

function impersonate(verbOn: Omit<ResourceAttributes, 'kind' | 'verb'>): ResourceAttributes {
  return { kind: 'resource', verb: 'impersonate', ...verbOn };
}

/** What must be allowed for the user name: the ServiceAccount itself, or the user. */
function userTarget(name: string): ResourceAttributes {
  if (name.startsWith(SA_PREFIX)) {
    const [namespace = '', sa = ''] = name.slice(SA_PREFIX.length).split(':');
    return impersonate({ apiGroup: '', resource: 'serviceaccounts', namespace, name: sa });
  }
  return impersonate({ apiGroup: '', resource: 'users', name });
}

/** Header names carry the extra key percent-encoded and lower-cased, as client-go sends them. */
function extras(headers: IncomingHttpHeaders): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(EXTRA_PREFIX)) continue;
    let key: string;
    try {
      key = decodeURIComponent(name.slice(EXTRA_PREFIX.length));
    } catch {
      throw new ApiError('BadRequest', `invalid impersonation extra header ${JSON.stringify(name)}`);
    }
    out[key] = values(value);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * The identity a request acts as: the caller's own, or the impersonated one once every part
 * of it is allowed (403 otherwise; 400 for groups, uid or extras without a user).
 */
export async function actingUser(
  caller: UserInfo,
  headers: IncomingHttpHeaders,
  may: Check,
): Promise<ImpersonatedUser> {
  const [name, ...more] = values(headers['impersonate-user']);
  const groups = values(headers['impersonate-group']);
  const [uid] = values(headers['impersonate-uid']);
  const extra = extras(headers);
  if (name === undefined) {
    if (groups.length > 0 || uid !== undefined || extra !== undefined) {
      throw new ApiError('BadRequest', 'requested uid, groups or user-extra without impersonating a user');
    }
    return caller;
  }
  if (more.length > 0) throw new ApiError('BadRequest', 'only one Impersonate-User header may be given');
  const wanted: ResourceAttributes[] = [userTarget(name)];
  for (const g of groups) wanted.push(impersonate({ apiGroup: '', resource: 'groups', name: g }));
  if (uid !== undefined) wanted.push(impersonate({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid }));
  for (const [key, vals] of Object.entries(extra ?? {})) {
    for (const v of vals) {
      wanted.push(
        impersonate({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v }),
      );
    }
  }
  for (const a of wanted) if (!(await may(caller, a))) throw forbidden(caller, a, '');

  const all = [...groups];
  const isSa = name.startsWith(SA_PREFIX);
  if (isSa && groups.length === 0) {
    const namespace = name.slice(SA_PREFIX.length).split(':')[0] ?? '';
    all.push('system:serviceaccounts', `system:serviceaccounts:${namespace}`);
  }
  const everyone = name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated';
  if (!all.includes(everyone)) all.push(everyone);
  return { name, groups: all, ...(uid === undefined ? {} : { uid }), ...(extra === undefined ? {} : { extra }) };
}
