// Services: ClusterIPs and NodePorts are allocated on create, kept across updates and given
// back on delete (see service-allocator.ts).

import type { ServiceAllocator } from '../service-allocator.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

export function serviceStrategy(allocator: ServiceAllocator): Strategy {
  return {
    ...defaultStrategy,
    beforeCreate: (obj) => allocator.allocate(obj),
    beforeUpdate: (next, prev) => allocator.carryOver(next, prev),
    afterDelete: (obj) => allocator.release(obj),
    returnsDeletedObject: true,
  };
}
