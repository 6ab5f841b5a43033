// The websocket channel protocol of exec and attach streams, and port-forward's protocols:
// SPDY/3.1 (framing and a server session) and the port-forward channel protocol.
export * from './channel-protocol.js';
export * from './port-forward-protocol.js';
export * from './spdy-framing.js';
export * from './spdy-session.js';
