export * from './kubeconfig.js';
export * from './rest-client.js';
export * from './watch.js';
export * from './work-queue.js';
export * from './informer.js';
export * from './event-recorder.js';
export * from './leader-election.js';
