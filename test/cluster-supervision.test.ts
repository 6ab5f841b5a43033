// `npm run up` runs the components under the cluster's supervisor: a component killed with
// SIGKILL is back with a new PID, a second `up` leaves the running cluster alone, and `down`
// leaves no process of the cluster. Drives scripts/up.sh and down.sh as a user does, with its
// own state, certificates, port and node name (needs root and Docker, for the node agent).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, REPO, removeNodeContainers, run } from './harness/control-plane.js';
import { processesUnder, runRoot, startTime } from './harness/run-root.js';

let state: string;
let env: NodeJS.ProcessEnv;
let server: string;
const node = `sup-${process.pid}`;

const up = (): Promise<{ code: number; stdout: string; stderr: string }> =>
  run('bash', [join(REPO, 'scripts', 'up.sh')], { env, timeoutMs: 300_000 });
const down = (): Promise<{ code: number; stdout: string; stderr: string }> =>
  run('bash', [join(REPO, 'scripts', 'down.sh')], { env, timeoutMs: 180_000 });

function pidOf(name: string): number | undefined {
  try {
    const pid = Number(
      readFileSync(join(state, name === 'supervisor' ? 'supervisor.pid' : `pids/${name}`), 'utf8').trim(),
    );
    return Number.isInteger(pid) && pid > 0 && startTime(pid) !== undefined ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function readyz(): Promise<boolean> {
  const res = await run(
    'curl',
    ['-fsS', '--max-time', '2', '--cacert', join(state, 'certs', 'ca.crt'), `${server}/readyz`],
    { timeoutMs: 10_000 },
  );
  return res.code === 0;
}

/** Polls (bounded: 60 × 250 ms, ~15 s) until the component runs again under a new PID. */
async function backWithNewPid(
  name: string,
  old: number,
  ready: () => Promise<boolean> = async () => true,
): Promise<number> {
  for (let i = 0; i < 60; i++) {
    const pid = pidOf(name);
    if (pid !== undefined && pid !== old && (await ready())) return pid;
    await sleep(250);
  }
  assert.fail(
    `${name} did not come back within ~15 s; supervisor log:\n${readFileSync(join(state, 'logs', 'supervisor.log'), 'utf8').slice(-2000)}`,
  );
}

before(async () => {
  // Under this run's root: if the test is killed, the next run sweeps the cluster away.
  state = mkdtempSync(join(runRoot(), 'supervised-'));
  const port = await freePort();
  server = `https://127.0.0.1:${port}`;
  env = {
    ...process.env,
    COXSWAIN_STATE: state,
    COXSWAIN_CERTS: join(state, 'certs'),
    COXSWAIN_PORT: String(port),
    COXSWAIN_NODE_NAME: node,
    COXSWAIN_SKIP_SETUP: '1',
    // Supervision is the subject: the agent leaves this machine's network (and port 10250) alone,
    // so tests that check the machine's routes and rules can run beside this one.
    COXSWAIN_KUBELET_ARGS: `--network none --port ${await freePort()}`,
  };
  const res = await up();
  assert.equal(res.code, 0, `up failed: ${res.stdout.slice(-2000)} ${res.stderr.slice(-2000)}`);
  assert.match(res.stdout, new RegExp(`node ${node} is Ready`));
});

after(async () => {
  await down().catch(() => undefined);
  await removeNodeContainers(node).catch(() => undefined);
  rmSync(state, { recursive: true, force: true });
});

test('the apiserver killed with SIGKILL is back, answering readyz, under a new PID', async () => {
  const old = pidOf('apiserver');
  assert.ok(old !== undefined, 'the apiserver runs');
  const killedAt = Date.now();
  process.kill(old, 'SIGKILL');
  const pid = await backWithNewPid('apiserver', old, readyz);
  assert.notEqual(pid, old);
  // Reported, not asserted (tests never assert on wall-clock time; the poll is bounded).
  process.stdout.write(
    `# apiserver answered readyz again ${Date.now() - killedAt} ms after kill -9 (new pid ${pid})\n`,
  );
  assert.match(readFileSync(join(state, 'logs', 'apiserver.log'), 'utf8'), /supervisor: restart 1 of apiserver/);
});

test('the controller-manager killed with SIGKILL is back under a new PID', async () => {
  const old = pidOf('controller-manager');
  assert.ok(old !== undefined, 'the controller-manager runs');
  process.kill(old, 'SIGKILL');
  await backWithNewPid('controller-manager', old);
  assert.match(
    readFileSync(join(state, 'logs', 'supervisor.log'), 'utf8'),
    new RegExp(`controller-manager \\(pid ${old}\\) ended \\(signal SIGKILL\\)`),
  );
});

test('up run again says the cluster is running and changes nothing', async () => {
  const names = ['supervisor', 'apiserver', 'controller-manager', 'scheduler', 'kubelet'];
  const before = names.map(pidOf);
  assert.ok(
    before.every((p) => p !== undefined),
    `all running: ${before.join(' ')}`,
  );
  const res = await up();
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /already running/);
  assert.equal(res.stdout.trim().split('\n').length, 1, `one line: ${res.stdout}`);
  assert.deepEqual(names.map(pidOf), before);
});

test('up with other settings over the running cluster says to stop it first and changes nothing', async () => {
  const names = ['supervisor', 'apiserver', 'controller-manager', 'scheduler', 'kubelet'];
  const before = names.map(pidOf);
  const res = await run('bash', [join(REPO, 'scripts', 'up.sh')], {
    env: { ...env, COXSWAIN_PORT: String(await freePort()) },
    timeoutMs: 60_000,
  });
  assert.equal(res.code, 1);
  assert.match(
    res.stderr.trim(),
    /^up: a cluster with other settings \(.*\) is already running from .*; stop it first: COXSWAIN_STATE=\S+ npm run down$/,
  );
  assert.deepEqual(names.map(pidOf), before);
});

test('down stops the supervisor and leaves no process of the cluster', async () => {
  const pids = ['supervisor', 'apiserver', 'controller-manager', 'scheduler', 'kubelet'].map(pidOf);
  const res = await down();
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /stopped the supervisor/);
  for (const pid of pids) assert.ok(pid === undefined || startTime(pid) === undefined, `process ${pid} is gone`);
  assert.deepEqual(processesUnder(state), [], "no process names the cluster's folders");
});
