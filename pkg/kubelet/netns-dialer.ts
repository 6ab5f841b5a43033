// Runs inside a pod's network namespace, started by the node agent through
// `nsenter -t <sandbox pid> -n` with an IPC channel: on each request it connects to
// 127.0.0.1:<port> there and hands the connected socket's descriptor back to the agent.
// A socket stays in the namespace it was made in, so the agent then reads and writes the
// pod's connection itself, with no process or copy in between.

import net from 'node:net';

const CONNECT_TIMEOUT_MS = 10_000;

function isDialRequest(msg: unknown): msg is { id: number; port: number } {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    'id' in msg &&
    'port' in msg &&
    typeof msg.id === 'number' &&
    typeof msg.port === 'number' &&
    Number.isInteger(msg.port) &&
    msg.port >= 1 &&
    msg.port <= 65535
  );
}

process.on('message', (msg: unknown) => {
  if (!isDialRequest(msg)) return;
  const socket = net.connect({ host: '127.0.0.1', port: msg.port });
  // Not a byte may be read here: what the pod's server sends first belongs to the agent.
  socket.pause();
  socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect: connection timed out')));
  socket.once('connect', () => {
    socket.setTimeout(0);
    process.send?.({ id: msg.id }, socket);
  });
  socket.once('error', (err: NodeJS.ErrnoException) => {
    const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
    process.send?.({ id: msg.id, error: why });
  });
});
// The agent gone (or done with this namespace): nothing left to do.
process.on('disconnect', () => process.exit(0));
