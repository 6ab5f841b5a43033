// The websocket channel protocol of exec, attach and port-forward streams.
export * from './channel-protocol.js';
