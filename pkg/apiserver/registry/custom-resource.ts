// The strategy of a custom resource (an object of a CustomResourceDefinition's kind): its
// version's structural schema defaults and validates it (pruning happens where every body's
// unknown fields are dropped, admit-body.ts), metadata is checked as for every kind, the
// `status` subresource splits spec and status writes, and `scale` reads and writes the
// replica paths the CRD names.

import { readFieldPath, writeFieldPath } from '../../api/field-path.js';
import { checkMetadataTypes } from '../../api/schema.js';
import { defaultBySchema, validateBySchema } from '../../api/structural-schema.js';
import { hasSubresource, type CustomVersion, type ResourceInfo } from '../../api/registry.js';
import type { CustomResourceSubresourceScale } from '../../api/types/apiextensions.js';
import {
  bumpGeneration,
  clearDeletion,
  defaultStrategy,
  keepIdentity,
  keepStatus,
  STATUS_SUBRESOURCE,
} from './default.js';
import { scaleSubresource, type ScaleView } from './scale.js';
import type { Strategy, Subresource } from './types.js';
import { ApiError } from '../../errors/index.js';

function scaleView(paths: CustomResourceSubresourceScale): ScaleView {
  return {
    specReplicas: (obj) => readFieldPath(obj, paths.specReplicasPath),
    statusReplicas: (obj) => readFieldPath(obj, paths.statusReplicasPath),
    selector(obj) {
      const selector = paths.labelSelectorPath === undefined ? undefined : readFieldPath(obj, paths.labelSelectorPath);
      return typeof selector === 'string' ? selector : '';
    },
    setSpecReplicas: (obj, replicas) => void writeFieldPath(obj, paths.specReplicasPath, replicas),
  };
}

function strategyOf(r: ResourceInfo, custom: CustomVersion): Strategy {
  const subresources: Record<string, Subresource> = {};
  if (hasSubresource(r, 'status')) subresources['status'] = STATUS_SUBRESOURCE;
  if (custom.scale !== undefined) subresources['scale'] = scaleSubresource(scaleView(custom.scale));
  const withStatus = hasSubresource(r, 'status');
  return {
    ...defaultStrategy,
    normalize: (obj) => defaultBySchema(obj, custom.schema),
    prepareForCreate(_r, obj) {
      // With a status subresource a create may not set the status; every custom object has a generation.
      if (withStatus) delete obj['status'];
      obj.metadata.generation = 1;
      clearDeletion(obj);
    },
    prepareForUpdate(_r, next, prev) {
      keepIdentity(next, prev);
      if (withStatus) keepStatus(next, prev);
      // Without a status subresource every change but metadata's is a new generation.
      const spec = (o: typeof next): unknown => (withStatus ? o['spec'] : { ...o, metadata: undefined });
      bumpGeneration({ ...next, spec: spec(next) }, { ...prev, spec: spec(prev) });
      next.metadata.generation = next.metadata.generation ?? 1;
    },
    validate: (r, obj) => [
      ...defaultStrategy.validate({ ...r, kind: `${r.kind}.${r.group}` }, obj),
      ...checkMetadataTypes(obj.metadata),
      ...validateBySchema(obj, custom.schema, ''),
    ],
    validateUpdate: () => [],
    admitCreate() {
      if (custom.terminating)
        throw new ApiError('MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
      return Promise.resolve([]);
    },
    subresources,
  };
}

const made = new WeakMap<ResourceInfo, Strategy>();

/** The strategy of a custom resource, made once per registry entry. */
export function customResourceStrategy(r: ResourceInfo, custom: CustomVersion): Strategy {
  let s = made.get(r);
  if (s === undefined) made.set(r, (s = strategyOf(r, custom)));
  return s;
}
