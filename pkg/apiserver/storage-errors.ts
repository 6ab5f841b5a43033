// Storage failures as API errors.

import type { ResourceInfo } from '../api/registry.js';
import { alreadyExists, ApiError, conflict, errorMessage, notFound } from '../errors/index.js';
import { isStorageError } from '../storage/store.js';

/** Maps storage failures to API errors with the resource's name in them. */
export function storageToApiError(err: unknown, r: ResourceInfo, name: string): ApiError {
  if (err instanceof ApiError) return err;
  if (isStorageError(err, 'KeyExists')) return alreadyExists(r.plural, r.group, name);
  if (isStorageError(err, 'KeyNotFound')) return notFound(r.plural, r.group, name);
  if (isStorageError(err, 'Conflict')) return conflict(r, name);
  if (isStorageError(err, 'Compacted')) return new ApiError('Expired', `too old resource version: ${err.message}`);
  if (isStorageError(err, 'Unavailable')) return new ApiError('ServiceUnavailable', err.message);
  return new ApiError('InternalError', `Internal error occurred: ${errorMessage(err)}`);
}
