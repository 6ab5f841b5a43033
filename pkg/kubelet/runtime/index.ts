export * from './labels.js';
export * from './docker-runtime.js';
