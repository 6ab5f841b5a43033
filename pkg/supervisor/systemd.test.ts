import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BACKOFF } from './backoff.js';
import { execWord, systemdUnits } from './systemd.js';

const specs = [
  {
    name: 'apiserver',
    command: '/usr/bin/node',
    args: ['dist/cmd/apiserver.js', '--data-dir', '/srv/cox/data'],
    cwd: '/opt/coxswain',
    order: 1,
  },
  {
    name: 'scheduler',
    command: '/usr/bin/node',
    args: ['dist/cmd/scheduler.js', '--kubeconfig', '/etc/cox "x"/s.kubeconfig'],
    cwd: '/opt/coxswain',
    order: 2,
  },
];

test("one service per child, in start order, restarting with the supervisor's back-off, tied to one target", () => {
  const units = systemdUnits(specs, {
    stateDir: '/srv/cox',
    prefix: 'coxswain',
    gracePeriodMs: 10_000,
    backoff: DEFAULT_BACKOFF,
  });
  assert.deepEqual([...units.keys()], ['coxswain-apiserver.service', 'coxswain-scheduler.service', 'coxswain.target']);
  const api = units.get('coxswain-apiserver.service') ?? '';
  assert.match(api, /^ExecStart="\/usr\/bin\/node" "dist\/cmd\/apiserver.js" "--data-dir" "\/srv\/cox\/data"$/m);
  assert.match(api, /^Restart=always$/m);
  assert.match(api, /^RestartSec=500ms$/m);
  assert.match(api, /^RestartSteps=6$/m, '0.5 s doubled 6 times reaches 30 s');
  assert.match(api, /^RestartMaxDelaySec=30000ms$/m);
  assert.match(api, /^TimeoutStopSec=10000ms$/m);
  assert.match(api, /^StandardOutput=append:\/srv\/cox\/logs\/apiserver.log$/m);
  assert.doesNotMatch(api, /^After=/m);
  const sched = units.get('coxswain-scheduler.service') ?? '';
  assert.match(sched, /^After=coxswain-apiserver.service$/m);
  assert.match(sched, /"\/etc\/cox \\"x\\"\/s.kubeconfig"/);
  assert.match(units.get('coxswain.target') ?? '', /^Wants=coxswain-apiserver.service coxswain-scheduler.service$/m);
});

test('ExecStart words escape what systemd would expand', () => {
  assert.equal(execWord('100%'), '"100%%"');
  assert.equal(execWord('$HOME'), '"$$HOME"');
  assert.equal(execWord('a\\b'), '"a\\\\b"');
});
