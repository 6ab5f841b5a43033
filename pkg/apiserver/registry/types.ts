// What a kind may specialise in the generic REST layer (after Kubernetes'
// registry/<group>/<kind>/strategy.go): preparing and validating writes, staging deletion,
// side effects around writes, and its subresources.

import type { ServerResponse } from 'node:http';
import type { DeleteOptions, KubeObject } from '../../api/meta.js';
import type { ResourceInfo } from '../../api/registry.js';
import type { StatusCause } from '../../errors/index.js';
import type { ApplyManager } from '../apply.js';
import type { UserInfo } from '../authn.js';
import type { KubeletProxy } from '../kubelet-proxy.js';
import type { RestStore } from '../rest-store.js';
import type { WriteOptions } from '../rest-types.js';

export interface Strategy {
  /** Write-time normalisation every create and update goes through. */
  normalize(obj: KubeObject): void;
  /** Resets what a client may not set on create (status, generation, deletion state). */
  prepareForCreate(r: ResourceInfo, obj: KubeObject): void;
  /** Carries over what an update of the main resource may not change; bumps generation. */
  prepareForUpdate(r: ResourceInfo, next: KubeObject, prev: KubeObject): void;
  /** A status write changes only the status. */
  prepareForStatusUpdate(next: KubeObject, prev: KubeObject): KubeObject;
  validate(r: ResourceInfo, obj: KubeObject): StatusCause[];
  validateUpdate(r: ResourceInfo, next: KubeObject, prev: KubeObject): StatusCause[];
  /** Mutates obj into its "deleting" state; false when it can be removed right away. */
  stageDeletion(obj: KubeObject, opts: DeleteOptions, now: Date): boolean;
  /** Whether an object being deleted stays after its last finalizer went (a pod waits for its agent). */
  waitsAfterFinalizers(obj: KubeObject): boolean;
  /**
   * Before a create is stored; returns an undo for when the write fails. A dry run fills
   * the object as a create would, without keeping anything.
   */
  beforeCreate?(obj: KubeObject, how: { dryRun: boolean }): Promise<(() => Promise<void>) | undefined>;
  /** Before an update is validated: may carry fields over from the stored object. */
  beforeUpdate?(next: KubeObject, prev: KubeObject): void;
  /** After an object is gone from the store. */
  afterDelete?(obj: KubeObject): Promise<void>;
  /** Fills a create request's body from who sent it (a CSR records its requester). */
  fromRequester?(body: Record<string, unknown>, user: UserInfo): void;
  /**
   * Admission of a new object, after validation and before it is stored (Kubernetes' admission
   * chain, smaller): may change the object and refuse it; returns warnings for the client.
   */
  admitCreate?(obj: KubeObject): Promise<string[]>;
  /** Admission of an update (main resource or a subresource), after validation; as admitCreate. */
  admitUpdate?(update: AdmittedUpdate): Promise<string[]>;
  /** Refuses a create or update its author may not make (RBAC: granting what one does not hold). */
  checkWrite?(obj: KubeObject, user: UserInfo | undefined): void;
  /** A resource that stores nothing (the reviews): the object a POST is answered with. */
  answerCreate?(question: { body: KubeObject; namespace: string | undefined; user: UserInfo }): KubeObject;
  /**
   * A delete that removed the object answers with it (Kubernetes' ReturnDeletedObject), not
   * with a Success Status naming it.
   */
  returnsDeletedObject?: boolean;
  /** Subresources by name; a name the registry lists but this map lacks allows only GET. */
  subresources: Readonly<Record<string, Subresource>>;
}

/** An update as admission sees it: the next state, the stored one, and which subresource. */
export interface AdmittedUpdate {
  next: KubeObject;
  current: KubeObject;
  subresource: string | undefined;
}

/** One request to a subresource, decoded by the HTTP layer. */
export interface SubresourceCall {
  store: RestStore;
  apply: ApplyManager;
  kubelets: KubeletProxy;
  r: ResourceInfo;
  namespace: string | undefined;
  name: string;
  query: Record<string, unknown>;
  /** The decoded body (undefined for GET). */
  body: unknown;
  /** The body's media type (for PATCH). */
  contentType: string;
  /** The write options of the query (read on demand: not every subresource takes them). */
  options: () => WriteOptions;
  res: ServerResponse;
}

/** What to answer: a code and a JSON body, or undefined when the handler answered itself (a stream). */
export type SubresourceReply = { code: number; body: unknown } | undefined;

export type SubresourceVerb = (call: SubresourceCall) => Promise<SubresourceReply>;

export interface Subresource {
  /** PUT and PATCH write the object as on the main resource, but only its status. */
  statusWrites?: boolean;
  get?: SubresourceVerb;
  create?: SubresourceVerb;
  update?: SubresourceVerb;
  patch?: SubresourceVerb;
}

/** The strategy for a resource. */
export type Strategies = (r: ResourceInfo) => Strategy;
