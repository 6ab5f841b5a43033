export * from './framework.js';
export * from './scheduler.js';
export { SchedulerCache } from './cache.js';
export { SchedulingQueue } from './queue.js';
export * from './config.js';
export { run } from './run.js';
export * from './metrics.js';
