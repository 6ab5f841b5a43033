import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectTarget } from './pod-tunnel.js';
import { ephemeralContainersToStart } from './ephemeral-containers.js';
import { queryFlag, resizeOf } from './attach.js';
import type { Pod } from '../api/types/index.js';

test('a tunnel goes to an IP and a port only', () => {
  assert.deepEqual(connectTarget('10.244.1.5:8080'), { host: '10.244.1.5', port: 8080 });
  assert.deepEqual(connectTarget('[fd00::5]:80'), { host: 'fd00::5', port: 80 });
  for (const bad of ['example.org:80', '10.0.0.1', '10.0.0.1:0', '10.0.0.1:70000', '999.1.1.1:80', ''])
    assert.equal(connectTarget(bad), undefined, bad);
});

test('an ephemeral container starts once: not when it exists or ever reported a container', () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', uid: 'u' },
    spec: {
      containers: [{ name: 'main', image: 'x' }],
      ephemeralContainers: [
        { name: 'new', image: 'x' },
        { name: 'running', image: 'x' },
        { name: 'gone', image: 'x' },
      ],
    },
    status: {
      ephemeralContainerStatuses: [
        { name: 'gone', ready: false, restartCount: 0, image: 'x', imageID: '', containerID: 'docker://abc' },
      ],
    },
  };
  const observed = new Map([['running', ['r']]]);
  assert.deepEqual(
    ephemeralContainersToStart(pod, observed).map((c) => c.name),
    ['new'],
  );
});

test('attach flags read as Go booleans; resize bodies are bounded', () => {
  const q = new URLSearchParams('stdin=True&tty=1&stdout=false&stderr=yes');
  assert.deepEqual(
    ['stdin', 'tty', 'stdout', 'stderr'].map((k) => queryFlag(q, k)),
    [true, true, false, false],
  );
  assert.deepEqual(resizeOf(Buffer.from('{"Width":80,"Height":24}')), { width: 80, height: 24 });
  assert.deepEqual(resizeOf(Buffer.from('{"Width":-1,"Height":1e9}')), { width: 0, height: 0 });
  assert.equal(resizeOf(Buffer.from('not json')), undefined);
});
