// `npm run up` over what another cluster left: its port taken, data without or with another
// CA, an agent root holding another cluster's credentials. Each time up exits non-zero with
// one line naming what is there and what to run, and starts nothing. An up that fails after
// it started something stops it again.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureClusterPki } from '../pkg/pki/index.js';
import { freePort, REPO, run } from './harness/control-plane.js';
import { processesUnder, runRoot } from './harness/run-root.js';

let base: string;
let n = 0;

before(() => {
  base = mkdtempSync(join(runRoot(), 'leftovers-'));
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

async function freshState(): Promise<{ state: string; env: NodeJS.ProcessEnv }> {
  const state = join(base, `state-${(n += 1)}`);
  mkdirSync(state, { recursive: true });
  const env = {
    ...process.env,
    COXSWAIN_STATE: state,
    COXSWAIN_CERTS: join(state, 'certs'),
    COXSWAIN_PORT: String(await freePort()),
    COXSWAIN_NODE_NAME: `left-${n}`,
    COXSWAIN_SKIP_SETUP: '1',
  };
  return { state, env };
}

async function upRefuses(state: string, env: NodeJS.ProcessEnv): Promise<string> {
  const res = await run('bash', [join(REPO, 'scripts', 'up.sh')], { env, timeoutMs: 60_000 });
  assert.equal(res.code, 1, `up refused: ${res.stdout} ${res.stderr}`);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${res.stderr}`);
  assert.equal(existsSync(join(state, 'supervisor.pid')), false, 'nothing was started');
  return lines[0] ?? '';
}

test('a port held by another process: up names it and how to choose another port', async () => {
  const { state, env } = await freshState();
  const server = createServer();
  await new Promise<void>((res) => server.listen(Number(env['COXSWAIN_PORT']), '127.0.0.1', () => res()));
  try {
    const line = await upRefuses(state, env);
    assert.match(
      line,
      new RegExp(`^up: port ${env['COXSWAIN_PORT']} is in use by .*\\(pid ${process.pid}\\).*COXSWAIN_PORT=`),
    );
  } finally {
    server.close();
  }
});

test('data without its CA, or with another CA than the certificates: up says to purge', async () => {
  const { state, env } = await freshState();
  mkdirSync(join(state, 'data'));
  writeFileSync(join(state, 'data', 'coxswain.db'), 'not ours');
  assert.match(
    await upRefuses(state, env),
    /data holds a cluster whose CA is not in .*; start afresh with: COXSWAIN_STATE=\S+ npm run down -- --purge$/,
  );

  await ensureClusterPki(join(state, 'certs'), { server: `https://127.0.0.1:${env['COXSWAIN_PORT']}` });
  writeFileSync(join(state, 'cluster-ca'), `${'ab'.repeat(32)}\n`);
  assert.match(
    await upRefuses(state, env),
    /data belongs to a cluster with another CA \(abababab, .* has [0-9a-f]{8}\); start afresh with: .*npm run down -- --purge$/,
  );

  const down = await run('bash', [join(REPO, 'scripts', 'down.sh'), '--purge'], { env, timeoutMs: 60_000 });
  assert.equal(down.code, 0, down.stderr);
  assert.equal(existsSync(join(state, 'data')), false, 'purge removed the data');
  assert.equal(existsSync(join(state, 'cluster-ca')), false);
});

test("a simulated host's agent root holding another cluster's credentials: up says to purge", async () => {
  const { state, env } = await freshState();
  await ensureClusterPki(join(state, 'certs'), { server: `https://127.0.0.1:${env['COXSWAIN_PORT']}` });
  const other = await ensureClusterPki(join(base, `other-${n}`), { server: 'https://127.0.0.1:1' });
  const pki = join(state, 'sim', 'coxh1', 'kubelet', 'pki');
  mkdirSync(pki, { recursive: true });
  copyFileSync(other.caCert, join(pki, 'ca.crt'));
  assert.match(
    await upRefuses(state, env),
    /sim\/coxh1\/kubelet holds a node agent's credentials for another cluster; start afresh with: .*npm run down -- --purge$/,
  );
  const down = await run('bash', [join(REPO, 'scripts', 'down.sh'), '--purge'], { env, timeoutMs: 60_000 });
  assert.equal(down.code, 0, down.stderr);
  assert.equal(existsSync(join(state, 'sim')), false, 'purge removed the agent roots');
});

test('up that fails after it started something stops it again and keeps the logs', async () => {
  const { state, env } = await freshState();
  await ensureClusterPki(join(state, 'certs'), { server: `https://127.0.0.1:${env['COXSWAIN_PORT']}` });
  // A data file the apiserver cannot open: it exits at start, every time.
  mkdirSync(join(state, 'data'));
  writeFileSync(
    join(state, 'data', 'coxswain.db'),
    'this is not an SQLite database, just text long enough to be read as one '.repeat(20),
  );
  const res = await run('bash', [join(REPO, 'scripts', 'up.sh')], { env, timeoutMs: 120_000 });
  assert.equal(res.code, 1, `up failed: ${res.stdout} ${res.stderr}`);
  assert.match(res.stderr, /up: the apiserver exited/);
  assert.match(res.stderr, /up: failed; stopping what it started/);
  assert.match(res.stderr, /down: stopped the supervisor/);
  assert.equal(existsSync(join(state, 'supervisor.pid')), false, 'the supervisor is gone');
  assert.deepEqual(processesUnder(state), [], 'no process of this cluster runs');
  assert.ok(existsSync(join(state, 'logs', 'apiserver.log')), 'the logs stay');
});
