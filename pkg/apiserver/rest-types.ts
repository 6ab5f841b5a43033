// The shapes the REST layer takes and gives: write options and results, selectors, watch
// requests and their events.

import type { KubeObject } from '../api/meta.js';
import type { ApiError } from '../errors/index.js';
import type { FieldValidation } from './admit-body.js';

import type { UserInfo } from './authn.js';
export interface WriteOptions {
  /** Who writes, for checks that depend on the writer (RBAC's escalation check); absent for the server's own writes. */
  user?: UserInfo;
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  dryRun?: boolean;
  /** Duplicate keys of the decoded body, when the body given is a copy of it (apply). */
  duplicateFields?: string[];
}

/** What guaranteedUpdate writes: a resourceVersion to require (else conflicts are retried), and the subresource. */
export interface UpdateOptions extends WriteOptions {
  expectedResourceVersion?: string;
  subresource?: string;
}

/** One object of a resource. */
export interface ObjectRef {
  namespace: string | undefined;
  name: string;
}

/** A POST: the body, and the namespace of the URL (undefined: cluster-scoped, or the body's). */
export interface CreateRequest {
  namespace: string | undefined;
  body: unknown;
  /** The body was decoded for this request alone: the store may change it instead of copying it. */
  bodyOwned?: boolean;
}

/** A PUT: the body replaces the object, or only its status. */
export interface UpdateRequest extends WriteOptions {
  body: unknown;
  subresource?: 'status';
}

/** A PATCH: a JSON, merge or strategic-merge patch (by content type) of the object or its status. */
export interface PatchRequest extends WriteOptions {
  contentType: string;
  body: unknown;
  subresource?: 'status';
}

/** One step of guaranteedUpdate: the next state of the live object (a copy, free to change). */
export interface GuaranteedUpdate extends UpdateOptions {
  mutate: (current: KubeObject) => KubeObject;
  /** Where admission's warnings for the client go. */
  warnings?: string[];
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A list request: selectors and, for a paged list, the page size and the previous page's continue token. */
export interface ListOptions extends Selectors {
  limit?: number | undefined;
  continue?: string | undefined;
  /** resourceVersion=0: whatever state is at hand will do, so the cache's memory answers without catching up first. */
  anyVersion?: boolean | undefined;
}

/** The selected objects of a collection (every namespace's when namespace is undefined). */
export interface CollectionRef extends Selectors {
  namespace: string | undefined;
}

export interface WatchRequest extends Selectors {
  /** Start after this revision; undefined or '0' → first replay the current state as ADDED. */
  resourceVersion?: string;
}

export type WatchListener = (event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }) => void;

/** A watch and where its events and errors (e.g. Expired) go. */
export interface WatchSubscription extends WatchRequest {
  listener: WatchListener;
  onError: (err: ApiError) => void;
}
