// The websocket channel protocol of exec and attach streams, and port-forward's protocols:
// SPDY/3.1 (framing and a server session), the port-forward channel protocol, and the
// header of the proxy's tunnel to a node agent.
export * from './channel-protocol.js';
export * from './pod-tunnel-protocol.js';
export * from './port-forward-protocol.js';
export * from './spdy-framing.js';
export * from './spdy-session.js';
