// rollout undo's choice, shared by coxctl and the dashboard: the previous revision's template
// (pod-template-hash removed), a named revision, and kubectl's refusals.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownedByRevision, rollbackTemplate } from './deployment-rollback.js';
import type { Deployment, ReplicaSet } from './types/index.js';

const deployment = (revision: string, paused = false): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'd-1',
    annotations: { 'deployment.kubernetes.io/revision': revision },
  },
  spec: { paused, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } },
});

function replicaSet(revision: string, image: string, owner = 'd-1'): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `web-${revision}`,
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner, controller: true }],
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', 'pod-template-hash': `h${revision}` } },
        spec: { containers: [{ name: 'c', image }] },
      },
    },
  };
}

const sets = [replicaSet('3', 'v3'), replicaSet('1', 'v1'), replicaSet('2', 'v2'), replicaSet('9', 'other', 'd-2')];

test('owned ReplicaSets, oldest revision first; another owner is left out', () => {
  assert.deepEqual(
    ownedByRevision(deployment('3'), sets).map((rs) => rs.metadata.name),
    ['web-1', 'web-2', 'web-3'],
  );
});

test("undo takes the previous revision's template without pod-template-hash", () => {
  const owned = ownedByRevision(deployment('3'), sets);
  const result = rollbackTemplate(deployment('3'), owned, { cli: 'kubectl' });
  assert.ok('template' in result);
  assert.equal(result.template.spec?.containers[0]?.image, 'v2');
  assert.deepEqual(result.template.metadata?.labels, { app: 'web' });
  // The ReplicaSet itself is not changed.
  assert.equal(owned[1]?.spec?.template?.metadata?.labels?.['pod-template-hash'], 'h2');
  const named = rollbackTemplate(deployment('3'), owned, { cli: 'kubectl', toRevision: '1' });
  assert.ok('template' in named && named.template.spec?.containers[0]?.image === 'v1');
});

test("kubectl's refusals: paused, no such revision, no history", () => {
  const owned = ownedByRevision(deployment('3'), sets);
  assert.match(
    JSON.stringify(rollbackTemplate(deployment('3', true), owned, { cli: 'coxctl' })),
    /paused.*coxctl rollout resume/,
  );
  assert.match(
    JSON.stringify(rollbackTemplate(deployment('3'), owned, { cli: 'kubectl', toRevision: '7' })),
    /unable to find specified revision 7 in history/,
  );
  assert.match(
    JSON.stringify(rollbackTemplate(deployment('1'), [replicaSet('1', 'v1')], { cli: 'kubectl' })),
    /no rollout history found for deployment \\"web\\"/,
  );
});
