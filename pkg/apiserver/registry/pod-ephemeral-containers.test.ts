import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/meta.js';
import { ephemeralContainerCauses } from './pod-ephemeral-containers.js';

function pod(ephemeralContainers: unknown[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'main', image: 'x' }], ephemeralContainers },
  };
}

const dbg = { name: 'dbg', image: 'busybox', stdin: true, tty: true, resources: {} };

test('adding an ephemeral container with only allowed fields is fine (empty resources count as none)', () => {
  assert.deepEqual(ephemeralContainerCauses(pod([dbg]), pod([])), []);
  assert.deepEqual(
    ephemeralContainerCauses(pod([dbg, { name: 'two', image: 'y', targetContainerName: 'main' }]), pod([dbg])),
    [],
  );
});

test('ports, probes and resources are refused; names are unique across all containers', () => {
  const causes = ephemeralContainerCauses(
    pod([
      { name: 'a', image: 'x', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } },
      { name: 'main', image: 'x' },
      { name: 'b', image: 'x', targetContainerName: 'nope' },
      { name: 'c' },
    ]),
    pod([]),
  );
  assert.deepEqual(
    causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`),
    [
      'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[1].name: Duplicate value: "main"',
      'spec.ephemeralContainers[2].targetContainerName: Not found: "nope"',
      'spec.ephemeralContainers[3].image: Required value',
    ],
  );
});

test('existing ephemeral containers may be neither changed nor removed', () => {
  assert.match(
    ephemeralContainerCauses(pod([{ ...dbg, image: 'other' }]), pod([dbg]))[0]?.message ?? '',
    /"dbg" may not be changed/,
  );
  assert.match(ephemeralContainerCauses(pod([]), pod([dbg]))[0]?.message ?? '', /"dbg" may not be removed/);
  assert.equal(
    ephemeralContainerCauses({ ...pod([]), spec: { containers: [], ephemeralContainers: 'x' } }, pod([])).length,
    1,
  );
});
