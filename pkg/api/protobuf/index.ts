// Kubernetes' protobuf wire format: envelope, per-kind messages, watch frames.
export * from './codec.js';
export { messageTypeOf } from './schema.js';
