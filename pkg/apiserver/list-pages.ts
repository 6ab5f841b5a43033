// List pagination (`limit` and `continue`), as Kubernetes' storage layer does it: a page
// ends after `limit` matching objects and carries a continue token naming the next key and
// the revision of the first page; every later page is read at that same revision, so the
// pages together are one consistent list. The store keeps no snapshots: the state at an
// older revision is the current state with the events since then undone (the watch
// history holds each event's previous object). A revision the history no longer holds is
// 410 Expired, with a token to go on at the latest revision, as Kubernetes answers after
// etcd compacted it. Tokens have Kubernetes' format: base64url (unpadded) JSON
// {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>"}.

import { isObject, type ListMeta } from '../api/meta.js';
import { firstQueryValue, int64Param, type QueryLike } from '../api/query-params.js';
import { ApiError, badRequest } from '../errors/index.js';
import { isStorageError, type ListResult, type Store, type StoreEvent, type StoredItem } from '../storage/store.js';

const TOKEN_VERSION = 'meta.k8s.io/v1';
/** The token revision that means "at the latest revision" (a token handed out with a 410). */
const LATEST = -1;

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
  'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
  'modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** The paging parameters of a list request: limit (400 unless an integer) and continue, which excludes resourceVersion. */
export function pageParams(q: QueryLike): { limit: number | undefined; continue: string | undefined } {
  const limit = int64Param(q, 'limit');
  const token = firstQueryValue(q, 'continue');
  if (token === undefined || token === '') return { limit, continue: undefined };
  const rv = firstQueryValue(q, 'resourceVersion');
  // A continued list is read at its first page's revision, as Kubernetes' storage insists.
  if (rv !== undefined && rv !== '' && rv !== '0')
    throw badRequest('specifying resource version is not allowed when using continue');
  return { limit, continue: token };
}

/** Where a continued list starts: the first key to read and the revision to read at (-1: the latest). */
export interface ContinueFrom {
  startKey: string;
  revision: number;
}

export function encodeContinue(nextKey: string, prefix: string, revision: number): string {
  const start = nextKey.startsWith(prefix) ? nextKey.slice(prefix.length) : nextKey;
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, rv: revision, start })).toString('base64url');
}

function invalidToken(why: string): ApiError {
  return badRequest(`invalid continue token: continue key is not valid${why === '' ? '' : `: ${why}`}`);
}

/** A key that stays inside the prefix: no `..`, `.`, `//` or trailing `/` (path.Clean must not change it). */
function isCleanPath(key: string): boolean {
  const segments = key.slice(1).split('/');
  return segments.every((s, i) => s !== '.' && s !== '..' && (s !== '' || (i === 0 && segments.length === 1)));
}

/** Reads a client's continue token (hostile input): 400 for anything that is not one of ours. */
export function decodeContinue(token: string, prefix: string): ContinueFrom {
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length > 8192) throw invalidToken('illegal base64 data');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken('the token is not JSON');
  }
  if (!isObject(parsed)) throw invalidToken('the token is not a JSON object');
  const { v, rv, start } = parsed;
  if (v !== TOKEN_VERSION)
    throw invalidToken(`server does not recognize this encoded version ${typeof v === 'string' ? v : ''}`.trim());
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv === 0 || rv < LATEST)
    throw invalidToken('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof start !== 'string' || start === '') throw invalidToken('encoded start key empty (version meta.k8s.io/v1)');
  const key = start.startsWith('/') ? start : `/${start}`;
  if (!isCleanPath(key)) throw invalidToken(start);
  return { startKey: prefix + key.slice(1), revision: rv };
}

/** The 410 for a continue token whose revision the history no longer holds, with a token to go on at the latest. */
function continueExpired(startKey: string, prefix: string): ApiError {
  return new ApiError('Expired', CONTINUE_EXPIRED, {
    metadata: { continue: encodeContinue(startKey, prefix, LATEST) },
  });
}

/**
 * The objects under the prefix as they were at `revision`: the current list with every later
 * event under the prefix undone, newest first. 410 when the history does not reach back.
 */
export async function listAtRevision(store: Store, prefix: string, from: ContinueFrom): Promise<ListResult> {
  const revision = from.revision;
  const events: StoreEvent[] = [];
  let handle;
  try {
    // Replay is synchronous, and later events arrive as they are applied: by the time the
    // list below answers, every event up to its revision is here.
    handle = store.watch(prefix, revision, { onEvent: (e) => events.push(e), onError: () => undefined });
  } catch (err) {
    if (isStorageError(err, 'Compacted')) throw continueExpired(from.startKey, prefix);
    throw err;
  }
  let current: ListResult;
  try {
    current = await store.list(prefix);
  } finally {
    handle.stop();
  }
  const state = new Map<string, StoredItem>(current.items.map((i) => [i.key, i]));
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e === undefined || e.revision > current.revision || e.revision <= revision) continue;
    if (e.type === 'ADDED' || e.prevObject === undefined) {
      state.delete(e.key);
      continue;
    }
    const prevRevision = Number(e.prevObject.metadata.resourceVersion ?? 0);
    state.set(e.key, { key: e.key, object: e.prevObject, revision: prevRevision });
  }
  const items = [...state.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { items, revision };
}

/** One page of a list: the items, and the list metadata (continue, remainingItemCount) when more remain. */
export interface Page {
  items: StoredItem[];
  meta: ListMeta;
}

/** How to cut a page: its size (none or ≤ 0: everything), where it starts, and which items count. */
export interface PageCut {
  limit: number | undefined;
  startKey: string | undefined;
  prefix: string;
  revision: number;
  /** Whether an item belongs to the list (selectors); undefined: every item does. */
  matches?: ((item: StoredItem) => boolean) | undefined;
}

/** Cuts one page from a key-ordered listing. remainingItemCount only when nothing is filtered, as Kubernetes. */
export function cutPage(sorted: StoredItem[], cut: PageCut): Page {
  const { limit, startKey, prefix, revision, matches } = cut;
  let at = 0;
  if (startKey !== undefined) while (at < sorted.length && (sorted[at]?.key ?? '') < startKey) at++;
  const items: StoredItem[] = [];
  for (; at < sorted.length; at++) {
    const item = sorted[at];
    if (item === undefined) continue;
    if (limit !== undefined && limit > 0 && items.length >= limit) break;
    if (matches === undefined || matches(item)) items.push(item);
  }
  const meta: ListMeta = { resourceVersion: String(revision) };
  const last = items[items.length - 1];
  if (at < sorted.length && last !== undefined) {
    meta.continue = encodeContinue(`${last.key}\u0000`, prefix, revision);
    if (matches === undefined) meta.remainingItemCount = sorted.length - at;
  }
  return { items, meta };
}
