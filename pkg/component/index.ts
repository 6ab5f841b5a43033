// What every process shares (component-base's role): the Runnable contract, periodic work,
// the process's stop signal, leader-elected terms and structured logs.

export * from './runnable.js';
export * from './until.js';
export * from './signals.js';
export * from './leader-elected.js';
export * from './log.js';
export * from './exit.js';
export * from './metrics-server.js';
