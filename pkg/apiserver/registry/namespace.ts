// Namespaces: created Active, deleted in two steps (Terminating until the namespace controller
// has emptied it and removed spec.finalizers through namespaces/finalize).

import { deepCopy, isObject, rfc3339 } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import { ApiError } from '../../errors/index.js';
import type { RestStore } from '../rest-store.js';
import { clearDeletion, defaultStrategy, keepIdentity, keepStatus } from './default.js';
import type { Strategy, SubresourceCall, SubresourceReply } from './types.js';

/** The namespace's own spec finalizer, removed by the namespace controller through `/finalize`. */
export const NAMESPACE_FINALIZER = 'kubernetes';

function specFinalizers(spec: unknown): unknown {
  return isObject(spec) ? spec['finalizers'] : undefined;
}

/** namespaces/finalize: sets spec.finalizers; a terminating namespace with none left goes. */
async function finalize(call: SubresourceCall): Promise<SubresourceReply> {
  const incoming = isObject(call.body) ? specFinalizers(call.body['spec']) : undefined;
  const finalizers = Array.isArray(incoming) ? incoming.filter((f): f is string => typeof f === 'string') : [];
  const object = await call.store.swap(
    call.r,
    { namespace: undefined, name: call.name },
    {
      ...call.options(),
      step: (current) => {
        const next = deepCopy(current);
        next['spec'] = { ...(isObject(next['spec']) ? next['spec'] : {}), finalizers };
        const remove =
          next.metadata.deletionTimestamp !== undefined &&
          finalizers.length === 0 &&
          (next.metadata.finalizers ?? []).length === 0;
        return { next, remove };
      },
    },
  );
  return { code: 200, body: object };
}

export const namespaceStrategy: Strategy = {
  ...defaultStrategy,
  prepareForCreate(_r, obj) {
    obj['status'] = { phase: 'Active' };
    clearDeletion(obj);
  },
  prepareForUpdate(_r, next, prev) {
    keepIdentity(next, prev);
    keepStatus(next, prev);
  },
  stageDeletion(obj, _opts, now) {
    const meta = obj.metadata;
    meta.deletionTimestamp ??= rfc3339(now);
    obj['status'] = { ...(isObject(obj['status']) ? obj['status'] : {}), phase: 'Terminating' };
    const finalizers = specFinalizers(obj['spec']);
    const pending = Array.isArray(finalizers) ? finalizers.length : 0;
    return pending > 0 || (meta.finalizers ?? []).length > 0;
  },
  subresources: { ...defaultStrategy.subresources, finalize: { update: finalize } },
};

/** Creates a namespace the server needs (kube-system …) unless it exists. */
export async function ensureNamespace(store: RestStore, name: string): Promise<void> {
  if ((await store.find(RESOURCES.namespaces, undefined, name)) !== undefined) return;
  try {
    await store.create(RESOURCES.namespaces, {
      namespace: undefined,
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    });
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
  }
}
