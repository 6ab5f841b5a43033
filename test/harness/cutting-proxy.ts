// A TCP proxy for tests of what a client does when its connection breaks after a request
// was sent (the apiserver applied it, the client never heard back).

import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP proxy in front of an apiserver that, once armed, passes the next request on a
 * connection already open, swallows the answer and resets the connection: the request was
 * applied, the client never hears of it.
 */
export async function cuttingProxy(target: string): Promise<{ url: string; arm(): void; close(): void }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let armed = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = new Socket();
    upstream.connect(Number(port), hostname);
    let cutting = false;
    client.on('data', (chunk: Buffer) => {
      if (armed && !cutting) {
        armed = false;
        cutting = true;
        setTimeout(() => client.resetAndDestroy(), 1_000);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) client.write(chunk);
    });
    const end = (): void => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `https://127.0.0.1:${address.port}`,
    arm: () => (armed = true),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
