// A test run killed with SIGKILL leaves its control plane running and its folders behind; the
// next run's sweep stops those processes and removes the folders, and never touches the root
// of a run that is still alive.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DIST, exited, waitForLine } from './harness/control-plane.js';
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
  assert.deepEqual(processesUnder(root).filter((p) => left.includes(p)).sort(), [...left].sort(), 'its components run from its root');

  // While the run lives, its root is not swept.
  assert.ok(!(await sweepStaleRuns()).includes(root));
  assert.ok(existsSync(root));

  child.kill('SIGKILL');
  await exited(child);
  for (const pid of left) assert.ok(startTime(pid) !== undefined, `component ${pid} outlived the killed run`);

  const removed = await sweepStaleRuns();
  assert.ok(removed.includes(root), `swept: ${removed.join(' ')}`);
  assert.equal(existsSync(root), false);
  for (const pid of left) assert.equal(startTime(pid), undefined, `component ${pid} stopped`);
  assert.ok(existsSync(mine), 'this run\'s root stays');
});
