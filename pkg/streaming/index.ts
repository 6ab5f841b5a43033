// The websocket channel protocol of exec and attach streams.
export * from './channel-protocol.js';
