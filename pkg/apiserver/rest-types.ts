// The shapes the REST layer takes and gives: write options and results, selectors, watch
// requests and their events.

import type { KubeObject } from '../api/meta.js';
import type { FieldValidation } from './admit-body.js';

export interface WriteOptions {
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

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchRequest extends Selectors {
  /** Start after this revision; undefined or '0' → first replay the current state as ADDED. */
  resourceVersion?: string;
}

export type WatchListener = (event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }) => void;
