// Nodes: the node agent registers its Node with a status it measured, and writes it through
// the main resource as well as status; a Node has no generation.

import { clearDeletion, defaultStrategy, keepIdentity } from './default.js';
import type { Strategy } from './types.js';

export const nodeStrategy: Strategy = {
  ...defaultStrategy,
  prepareForCreate: (_r, obj) => clearDeletion(obj),
  prepareForUpdate: (_r, next, prev) => keepIdentity(next, prev),
};
