// The patch types the apiserver accepts, behind one dispatcher.

import { ApiError } from '../../errors/index.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch, type KindRef } from './strategic-merge-patch.js';

export * from './json-patch.js';
export * from './merge-patch.js';
export * from './strategic-merge-patch.js';

/** A patch as a request carries it: its media type, which says how to apply it, and its body. */
export interface PatchDocument {
  contentType: string;
  body: unknown;
}

/** Applies a patch of any accepted type to `original` (an object of `kind`, for strategic merge). */
export function applyPatch(original: unknown, patch: PatchDocument, kind: KindRef): unknown {
  switch (patch.contentType) {
    case 'application/json-patch+json':
      return applyJsonPatch(original, patch.body);
    case 'application/merge-patch+json':
      return applyMergePatch(original, patch.body);
    case 'application/strategic-merge-patch+json':
      return applyStrategicMergePatch(original, patch.body, kind);
    default:
      throw new ApiError(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}
