// Services: ClusterIPs and NodePorts are allocated on create, kept across updates and given
// back on delete (see service-allocator.ts: in the store, shared by every apiserver).

import type { ServiceAllocator } from '../service-allocator.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

export function serviceStrategy(allocator: ServiceAllocator): Strategy {
  return {
    ...defaultStrategy,
    beforeCreate: (obj, how) => allocator.allocate(obj, how),
    beforeUpdate: (next, prev) => allocator.carryOver(next, prev),
    // The delete is done: an address not given back now is a leak the repair pass frees.
    afterDelete: (obj) => allocator.release(obj).catch(() => undefined),
    returnsDeletedObject: true,
  };
}
