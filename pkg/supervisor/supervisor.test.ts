// The supervisor with real child processes: restarts after kill -9 with a new PID, stops its
// children (SIGKILL for one that ignores SIGTERM), follows supervise/ on reload, and the CLI
// starts detached and adds children.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  childLogFile,
  childPidFile,
  ensureLayout,
  isAlive,
  layoutOf,
  livePid,
  Supervisor,
  writeSpec,
  type Layout,
} from './index.js';

const SLEEPER = ['-e', 'setInterval(() => {}, 1000)'];
/** Ignores SIGTERM, and says so by writing `ready` in its working folder once its handler is in. */
const STUBBORN = [
  '-e',
  'process.on("SIGTERM", () => {}); require("fs").writeFileSync("ready", ""); setInterval(() => {}, 1000)',
];
const FAST = { initialMs: 20, maxMs: 200, resetAfterMs: 60_000 };

/** Polls (at most ~15 s) until `probe` returns a value. */
async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function setup(): { dir: string; layout: Layout; logs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'supervisor-test-'));
  const layout = layoutOf(dir);
  ensureLayout(layout);
  return { dir, layout, logs: [] };
}

test('a child killed with SIGKILL is started again with a new PID; stopping ends every child', async () => {
  const { dir, layout, logs } = setup();
  try {
    const extra = join(dir, 'a-elsewhere.pid');
    writeSpec(layout, { name: 'a', command: process.execPath, args: SLEEPER, cwd: dir, order: 1, extraPidFile: extra });
    writeSpec(layout, { name: 'b', command: process.execPath, args: SLEEPER, cwd: dir, order: 2 });
    const sup = new Supervisor({ stateDir: dir, gracePeriodMs: 5_000, backoff: FAST, log: (m) => logs.push(m) });
    const abort = new AbortController();
    const running = sup.run(abort.signal);
    const first = await until('a runs', () => livePid(childPidFile(layout, 'a')));
    const b = await until('b runs', () => livePid(childPidFile(layout, 'b')));
    process.kill(first, 'SIGKILL');
    const second = await until('a again', () => {
      const pid = livePid(childPidFile(layout, 'a'));
      return pid !== undefined && pid !== first ? pid : undefined;
    });
    assert.equal(isAlive(first), false);
    assert.equal(livePid(extra), second, 'the extra pid file follows the restart');
    assert.equal(livePid(childPidFile(layout, 'b')), b, 'the other child was not touched');
    assert.match(readFileSync(childLogFile(layout, 'a'), 'utf8'), /supervisor: restart 1 of a/);
    assert.ok(
      logs.some((l) => /a \(pid \d+\) ended \(signal SIGKILL\)/.test(l)),
      logs.join('\n'),
    );
    abort.abort();
    await running;
    assert.equal(isAlive(second), false);
    assert.equal(isAlive(b), false);
    assert.equal(livePid(childPidFile(layout, 'a')), undefined, 'pid files removed');
    assert.equal(livePid(extra), undefined);
    assert.ok(
      logs.indexOf('stopped b (pid ' + b + ')') < logs.findIndex((l) => l.startsWith('stopped a')),
      'reverse order of adding',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a child that ignores SIGTERM is killed after the grace period', async () => {
  const { dir, layout, logs } = setup();
  try {
    writeSpec(layout, { name: 'stubborn', command: process.execPath, args: STUBBORN, cwd: dir, order: 1 });
    const sup = new Supervisor({ stateDir: dir, gracePeriodMs: 300, backoff: FAST, log: (m) => logs.push(m) });
    const abort = new AbortController();
    const running = sup.run(abort.signal);
    const pid = await until('stubborn runs', () => livePid(childPidFile(layout, 'stubborn')));
    // A busy machine can take longer than any fixed sleep to start node: wait for its handler.
    await until('stubborn ignores SIGTERM', () => (existsSync(join(dir, 'ready')) ? true : undefined));
    abort.abort();
    await running;
    assert.equal(isAlive(pid), false);
    assert.ok(
      logs.some((l) => /still running .* SIGKILL/.test(l)),
      logs.join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that cannot be started is retried with back-off; the supervisor keeps running the others', async () => {
  const { dir, layout, logs } = setup();
  try {
    writeSpec(layout, { name: 'missing', command: join(dir, 'no-such-program'), args: [], cwd: dir, order: 1 });
    writeSpec(layout, { name: 'fine', command: process.execPath, args: SLEEPER, cwd: dir, order: 2 });
    const sup = new Supervisor({ stateDir: dir, gracePeriodMs: 5_000, backoff: FAST, log: (m) => logs.push(m) });
    const abort = new AbortController();
    const running = sup.run(abort.signal);
    const fine = await until('fine runs', () => livePid(childPidFile(layout, 'fine')));
    await until('three failed starts', () =>
      logs.filter((l) => /^missing .*could not start.*restart 3 in 0\.1 s/.test(l)).length > 0 ? true : undefined,
    );
    assert.equal(livePid(childPidFile(layout, 'fine')), fine);
    abort.abort();
    await running;
    assert.equal(isAlive(fine), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reload starts children added to supervise/ and stops removed ones', async () => {
  const { dir, layout, logs } = setup();
  try {
    const sup = new Supervisor({ stateDir: dir, gracePeriodMs: 5_000, backoff: FAST, log: (m) => logs.push(m) });
    const abort = new AbortController();
    const running = sup.run(abort.signal);
    writeSpec(layout, { name: 'late', command: process.execPath, args: SLEEPER, cwd: dir, order: 1 });
    sup.reload();
    const pid = await until('late runs', () => livePid(childPidFile(layout, 'late')));
    rmSync(join(layout.specDir, 'late.json'));
    sup.reload();
    await until('late stopped', () => (isAlive(pid) ? undefined : true));
    abort.abort();
    await running;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI starts a detached supervisor, adds a child, and SIGTERM stops both', async () => {
  const { dir, layout } = setup();
  const cli = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cmd', 'supervisor.js');
  const run = (args: string[]): Promise<{ code: number; out: string }> =>
    new Promise((res) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => res({ code: code ?? -1, out }));
    });
  let supervisor: number | undefined;
  try {
    const started = await run(['start', '--state', dir]);
    assert.equal(started.code, 0, started.out);
    supervisor = livePid(layout.pidFile);
    assert.ok(supervisor !== undefined, 'supervisor.pid names a live process');
    const again = await run(['start', '--state', dir]);
    assert.match(again.out, /already running/);
    const added = await run(['add', '--state', dir, '--name', 'sleeper', '--', process.execPath, ...SLEEPER]);
    assert.equal(added.code, 0, added.out);
    const child = livePid(childPidFile(layout, 'sleeper'));
    assert.ok(child !== undefined);
    assert.match(added.out, new RegExp(`started sleeper \\(pid ${child}\\)`));
    process.kill(supervisor, 'SIGTERM');
    const sup = supervisor;
    await until('supervisor gone', () => (isAlive(sup) ? undefined : true));
    assert.equal(isAlive(child), false, 'its child is gone too');
    assert.equal(livePid(layout.pidFile), undefined);
  } finally {
    if (supervisor !== undefined && isAlive(supervisor)) process.kill(supervisor, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
