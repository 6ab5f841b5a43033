import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { RESOURCES } from '../api/registry.js';
import { createLogger } from '../component/index.js';
import { RestClient } from './rest-client.js';
import { Reflector } from './watch.js';

/** A port nobody listens on (a list there fails with ECONNREFUSED). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

test('the reflector logs each failed list, saying what and why, then backs off', async () => {
  const port = await closedPort();
  const client = new RestClient({
    server: `https://127.0.0.1:${port}`,
    caPem: undefined,
    certPem: undefined,
    keyPem: undefined,
    token: undefined,
    namespace: 'default',
    userName: 'test',
  });
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line) });
  const ac = new AbortController();
  const reflector = new Reflector(
    client,
    { resource: RESOURCES.pods, namespace: 'demo' },
    { onList: () => assert.fail('no list can succeed'), onEvent: () => undefined, log },
  );
  reflector.start(ac.signal);
  const deadline = Date.now() + 5_000;
  while (lines.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  assert.ok(lines.length >= 2, `two failed lists logged, got ${lines.length}`);
  // One line per failure, not a flood: the back-off (200 ms, then doubling) spaces them.
  assert.ok(lines.length <= 3, `no flood: ${lines.length} lines`);
  for (const line of lines) {
    assert.match(line, / warn {2}list failed; backing off /);
    assert.match(line, /resource=pods namespace=demo /);
    assert.match(line, /err=.*ECONNREFUSED/);
    assert.match(line, /retryMs=\d+/);
  }
  const count = lines.length;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(lines.length, count, 'nothing more once aborted');
});
