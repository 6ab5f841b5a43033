// Secrets: the write-only `stringData` is folded into base64 `data` on every write, as
// Kubernetes does.

import { isObject } from '../../api/meta.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

export const secretStrategy: Strategy = {
  ...defaultStrategy,
  normalize(obj) {
    const stringData = obj['stringData'];
    if (stringData === undefined) return;
    const data: Record<string, unknown> = { ...(isObject(obj['data']) ? obj['data'] : {}) };
    if (typeof stringData === 'object' && stringData !== null) {
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    }
    obj['data'] = data;
    delete obj['stringData'];
  },
};
