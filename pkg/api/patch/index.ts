// The patch types the apiserver accepts, behind one dispatcher.

import { ApiError } from '../../errors/index.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch, type KindRef } from './strategic-merge-patch.js';

export * from './json-patch.js';
export * from './merge-patch.js';
export * from './strategic-merge-patch.js';

export function applyPatch(contentType: string, original: unknown, patch: unknown, kind: KindRef): unknown {
  switch (contentType) {
    case 'application/json-patch+json':
      return applyJsonPatch(original, patch);
    case 'application/merge-patch+json':
      return applyMergePatch(original, patch);
    case 'application/strategic-merge-patch+json':
      return applyStrategicMergePatch(original, patch, kind);
    default:
      throw new ApiError(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}
