import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { FakeRuntime } from './fake.js';
import { ImagePullError } from './interface.js';
import type { ContainerIdentity } from './labels.js';

const clock = { now: (): number => Date.parse('2026-01-01T00:00:00Z') };
const id = (containerName: string, type: ContainerIdentity['type']): ContainerIdentity => ({
  uid: 'u',
  namespace: 'ns',
  name: 'p',
  containerName,
  attempt: 0,
  type,
  specHash: '',
});

async function running(rt: FakeRuntime): Promise<string> {
  const sandbox = await rt.runSandbox(id('POD', 'sandbox'), { image: 'pause', network: 'n', hostname: 'p' });
  const c = await rt.createContainer(sandbox, id('a', 'app'), { image: 'busybox', env: [], mounts: [] });
  await rt.start(c);
  return c;
}

test('logs honour tailLines; exec returns the injected result', async () => {
  const rt = new FakeRuntime(clock, ['pause', 'busybox']);
  const c = await running(rt);
  rt.appendLogs(c, 'one\ntwo\nthree\n');
  assert.equal(await text(await rt.logs(c, { tailLines: 2 })), 'two\nthree\n');
  rt.setExecResult(['cat', '/ready'], { exitCode: 1, stderr: 'no such file' });
  const session = await rt.exec(c, { cmd: ['cat', '/ready'], tty: false, stdin: false });
  assert.equal(await session.exitCode, 1);
  assert.equal(await text(session.stderr), 'no such file');
});

test('a container cannot start once its sandbox is gone; stop is SIGTERM with grace, SIGKILL without', async () => {
  const rt = new FakeRuntime(clock, ['pause', 'busybox']);
  const c = await running(rt);
  const sandbox = rt.latest('u', 'POD')?.state.id ?? '';
  await rt.stop(c, 10);
  assert.equal((await rt.inspect(c))?.exitCode, 143);
  await rt.stop(sandbox, 0);
  assert.equal((await rt.inspect(sandbox))?.exitCode, 137);
  await assert.rejects(rt.start(c), /not running/);
});

test('pulls: injected failures are ImagePullErrors; Never does not pull', async () => {
  const rt = new FakeRuntime(clock);
  rt.pullFailures.set('x:1', 'denied');
  await assert.rejects(rt.ensureImage('x:1', 'IfNotPresent'), ImagePullError);
  await assert.rejects(rt.ensureImage('y:1', 'Never'), ImagePullError);
  await rt.ensureImage('y:1', 'IfNotPresent');
  assert.equal(await rt.imagePresent('y:1'), true);
  assert.deepEqual(
    [...rt.pulls],
    [
      ['x:1', 1],
      ['y:1', 1],
    ],
  );
});
