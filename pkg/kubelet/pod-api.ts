// What pod sync needs of the API server: reading the ConfigMaps and Secrets a pod refers to,
// asking for its ServiceAccount tokens, writing its status, and ending its deletion. Narrower than RestClient (which satisfies it),
// so unit tests hand pod sync a small in-memory fake.

import type { KubeObject } from '../api/meta.js';
import type { Resource, ResourceInfo } from '../api/registry.js';
import type { DeleteCallOptions, PatchRequest, SubresourceCreate } from '../client/index.js';

export interface PodApi {
  get<T extends KubeObject>(r: Resource<T>, name: string, opts?: { namespace?: string | undefined }): Promise<T>;
  patch(r: ResourceInfo, name: string, req: PatchRequest): Promise<unknown>;
  delete(r: ResourceInfo, name: string, opts?: DeleteCallOptions): Promise<unknown>;
  /** TokenRequests for projected ServiceAccount tokens. */
  createSubresource(r: ResourceInfo, name: string, req: SubresourceCreate): Promise<unknown>;
}

/** The part that reads objects (env and volume sources). */
export type ObjectReader = Pick<PodApi, 'get'>;
