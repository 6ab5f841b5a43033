// policy/v1 Eviction: the body of `pods/eviction`.

import type { DeleteOptions, KubeObject } from '../meta.js';

export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions;
}
