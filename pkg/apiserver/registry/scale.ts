// <workload>/scale: the autoscaling/v1 Scale view of spec.replicas, read (GET) and written
// (PUT of a Scale, or a patch of it).

import { deepCopy, isObject, type KubeObject } from '../../api/meta.js';
import { applyPatch } from '../../api/patch/index.js';
import { badRequest, invalid } from '../../errors/index.js';
import { resourceVersionParam } from '../request-options.js';
import { objectAt } from './fields.js';
import type { Subresource, SubresourceCall, SubresourceReply } from './types.js';

/** Where a kind keeps what its Scale shows: built-in workloads fixed fields, custom resources their CRD's paths. */
export interface ScaleView {
  specReplicas(obj: KubeObject): unknown;
  statusReplicas(obj: KubeObject): unknown;
  /** The label selector of the pods the replicas count, in its string form. */
  selector(obj: KubeObject): string;
  setSpecReplicas(obj: KubeObject, replicas: number): void;
}

/** The workloads' view: spec.replicas, status.replicas and the label selector of spec.selector. */
const WORKLOAD_VIEW: ScaleView = {
  specReplicas: (obj) => objectAt(obj, 'spec')['replicas'],
  statusReplicas: (obj) => objectAt(obj, 'status')['replicas'],
  selector(obj) {
    const selectorField = objectAt(objectAt(obj, 'spec'), 'selector');
    // A ReplicationController's selector is the label map itself.
    const labels = obj.kind === 'ReplicationController' ? selectorField : objectAt(selectorField, 'matchLabels');
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
  },
  setSpecReplicas(obj, replicas) {
    const spec = objectAt(obj, 'spec');
    spec['replicas'] = replicas;
    obj['spec'] = spec;
  },
};

function scaleOf(obj: KubeObject, view: ScaleView): KubeObject {
  const specReplicas = view.specReplicas(obj);
  const statusReplicas = view.statusReplicas(obj);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, selector: view.selector(obj) },
  };
}

function scaleResourceVersion(scale: unknown): string | undefined {
  if (isObject(scale) && isObject(scale['metadata']) && typeof scale['metadata']['resourceVersion'] === 'string') {
    return scale['metadata']['resourceVersion'];
  }
  return undefined;
}

/** Writes spec.replicas from a Scale (PUT) or a patch of the Scale (PATCH). */
async function writeScale(
  call: SubresourceCall,
  change: { scale: unknown } | { contentType: string; patch: unknown },
  view: ScaleView,
): Promise<SubresourceReply> {
  const { name } = call;
  const expected = 'scale' in change ? scaleResourceVersion(change.scale) : undefined;
  const updated = await call.store.guaranteedUpdate(
    call.r,
    { namespace: call.namespace ?? '', name },
    {
      ...call.options(),
      expectedResourceVersion: expected,
      mutate: (obj) => {
        const current = scaleOf(obj, view);
        const wanted =
          'scale' in change
            ? change.scale
            : applyPatch(
                deepCopy(current),
                { contentType: change.contentType, body: change.patch },
                { group: 'autoscaling', kind: 'Scale' },
              );
        const replicas = isObject(wanted) && isObject(wanted['spec']) ? wanted['spec']['replicas'] : undefined;
        if (
          typeof replicas === 'number' &&
          !(Number.isInteger(replicas) && replicas <= 2 ** 31 - 1 && replicas >= -(2 ** 31))
        ) {
          throw badRequest(
            `Scale in version "v1" cannot be handled as a Scale: cannot unmarshal number ${String(replicas)} into Go struct field spec.replicas of type int32`,
          );
        }
        if (typeof replicas !== 'number' || replicas < 0) {
          throw invalid({ kind: 'Scale', group: 'autoscaling' }, name, [
            {
              reason: 'FieldValueInvalid',
              field: 'spec.replicas',
              message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
            },
          ]);
        }
        view.setSpecReplicas(obj, replicas);
        return obj;
      },
    },
  );
  return { code: 200, body: scaleOf(updated, view) };
}

/** The scale subresource of a kind whose Scale `view` reads and writes. */
export function scaleSubresource(view: ScaleView): Subresource {
  return {
    async get(call) {
      await call.store.awaitRevision(resourceVersionParam(call.query));
      return { code: 200, body: scaleOf(await call.store.get(call.r, call.namespace ?? '', call.name), view) };
    },
    update: (call) => writeScale(call, { scale: call.body }, view),
    patch: (call) => writeScale(call, { contentType: call.contentType, patch: call.body }, view),
  };
}

export const SCALE_SUBRESOURCE: Subresource = scaleSubresource(WORKLOAD_VIEW);
