export * from './labels.js';
export * from './interface.js';
export * from './docker.js';
export * from './fake.js';
