// A test run killed with SIGKILL leaves its control plane, its simulated host (namespace,
// dockerd) and its folders behind; the next run's sweep stops those processes, tears the host
// down and removes the folders, and never touches the root of a run that is still alive.
// (Needs root and Docker for the simulated host.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DIST, exited, run, waitForLine } from './harness/control-plane.js';
import { processesUnder, runRoot, startTime, sweepStaleRuns } from './harness/run-root.js';

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
