export * from './sampler.js';
export * from './render.js';
export * from './endpoints.js';
