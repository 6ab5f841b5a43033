// A test run killed with SIGKILL leaves its control plane, its simulated host (namespace,
// dockerd) and its folders behind; the next run's sweep stops those processes, tears the host
// down and removes the folders, and never touches the root of a run that is still alive.
// (Needs root and Docker for the simulated host.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DIST, exited, run, waitForLine } from './harness/control-plane.js';
import { RUNS_DIR, mountsUnder, processesUnder, runRoot, startTime, sweepStaleRuns } from './harness/run-root.js';

/** A stand-in for a test file: starts a control plane through the harness, then idles. */
const CHILD = `
const { startControlPlane } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'test', 'harness', 'control-plane.js')).href)});
const { runRoot } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'test', 'harness', 'run-root.js')).href)});
const plane = await startControlPlane({ withControllers: true });
console.log('ready', runRoot(), plane.apiserver.pid, plane.controllerManager.pid);
setInterval(() => {}, 1000);
`;

test('the sweep stops what a SIGKILLed run left running and removes its root; live roots stay', async () => {
  const mine = runRoot();
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await waitForLine(child, /^ready /, 60_000);
  const [, root = '', apiserver = '', cm = ''] = line.trim().split(' ');
  assert.ok(root.startsWith(join(mine, '..')), `the child's root ${root} sits beside ours`);
  assert.notEqual(root, mine);
  const left = [Number(apiserver), Number(cm)];
  assert.deepEqual(
    processesUnder(root)
      .filter((p) => left.includes(p))
      .sort(),
    [...left].sort(),
    'its components run from its root',
  );

  // While the run lives, its root is not swept.
  assert.ok(!(await sweepStaleRuns()).includes(root));
  assert.ok(existsSync(root));

  child.kill('SIGKILL');
  await exited(child);
  for (const pid of left) assert.ok(startTime(pid) !== undefined, `component ${pid} outlived the killed run`);

  // (Another test file's sweep may get there first: the outcome is what counts.)
  await sweepStaleRuns();
  assert.equal(existsSync(root), false);
  for (const pid of left) assert.equal(startTime(pid), undefined, `component ${pid} stopped`);
  assert.ok(existsSync(mine), "this run's root stays");
});

/** A host number no other test uses: hosts are named on the whole machine. */
const HOST = 200;

const SIM_CHILD = `
const { addSimHost } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'test', 'harness', 'sim-hosts.js')).href)});
const { runRoot } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'test', 'harness', 'run-root.js')).href)});
const host = await addSimHost(${HOST});
console.log('ready', runRoot(), host.ns, host.root);
setInterval(() => {}, 1000);
`;

test('the sweep tears down the simulated host of a SIGKILLed run: dockerd stopped, namespace and docker data gone', async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SIM_CHILD], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = await waitForLine(child, /^ready /, 180_000);
  const [, root = '', ns = '', hostRoot = ''] = line.trim().split(' ');
  const dockerd = Number(readFileSync(`/run/coxswain/sim/${ns}/docker.pid`, 'utf8'));
  assert.ok(hostRoot.startsWith(`${root}/`), `the host's docker data ${hostRoot} is under the run's root ${root}`);
  assert.ok(startTime(dockerd) !== undefined, 'its dockerd runs');
  child.kill('SIGKILL');
  await exited(child);

  // (Another test file's sweep may get there first: the outcome is what counts.)
  await sweepStaleRuns();
  assert.equal(startTime(dockerd), undefined, 'the dockerd is stopped');
  assert.doesNotMatch((await run('ip', ['netns', 'list'])).stdout, new RegExp(`\\b${ns}\\b`), 'the namespace is gone');
  assert.equal(existsSync(root), false, 'the docker data and the root are gone');
  assert.equal(existsSync(`/run/coxswain/sim/${ns}`), false);
});

/** Host number of the hand-made leftover below (no other test uses it). */
const LEFT_HOST = 199;

test('a root left with a host made under a nested root and a dockerd killed hard (its bind mount left) is swept too', async () => {
  // What a test running `npm run up --hosts` leaves when it is killed: hosts whose root is
  // <run root>/<state>/sim, and the data root dockerd bind-mounted on itself.
  mkdirSync(RUNS_DIR, { recursive: true });
  const root = mkdtempSync(join(RUNS_DIR, '1-'));
  const hostsRoot = join(root, 'up-state', 'sim');
  const dataRoot = join(hostsRoot, `coxh${LEFT_HOST}`, 'docker');
  mkdirSync(dataRoot, { recursive: true });
  const ns = `coxh${LEFT_HOST}`;
  try {
    assert.equal((await run('mount', ['--bind', dataRoot, dataRoot])).code, 0);
    assert.equal((await run('ip', ['netns', 'add', ns])).code, 0);
    mkdirSync(`/run/coxswain/sim/${ns}`, { recursive: true });
    writeFileSync(`/run/coxswain/sim/${ns}/root`, `${hostsRoot}\n`);
    assert.deepEqual(mountsUnder(root), [dataRoot]);
    // Written last: until then the root counts as one being made, and no sweep takes it.
    writeFileSync(join(root, 'owner'), '1 0\n'); // pid 1 did not start at tick 0: its owner is gone

    await sweepStaleRuns();
    assert.deepEqual(mountsUnder(root), [], 'the mount is gone');
    assert.equal(existsSync(root), false, 'the root is gone');
    assert.doesNotMatch(
      (await run('ip', ['netns', 'list'])).stdout,
      new RegExp(`\\b${ns}\\b`),
      'the namespace is gone',
    );
    assert.equal(existsSync(`/run/coxswain/sim/${ns}`), false);
  } finally {
    for (const point of mountsUnder(root)) await run('umount', ['-l', point]);
    await run('ip', ['netns', 'del', ns]);
    rmSync(`/run/coxswain/sim/${ns}`, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
});
