import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demuxBuffer } from './docker.js';
import { dockerName, identityOf, labelsFor, LABELS, ownerFilter, type ContainerIdentity } from './labels.js';

const web: ContainerIdentity = {
  uid: 'u-1',
  namespace: 'ns',
  name: 'pod',
  containerName: 'web',
  attempt: 3,
  type: 'app',
  specHash: 'abc',
};

test('labels carry the cluster, the node and the identity, and read back to the same identity', () => {
  const labels = labelsFor({ cluster: '0a1b2c3d', node: 'node-a' }, web);
  assert.equal(labels[LABELS.cluster], '0a1b2c3d');
  assert.equal(labels[LABELS.node], 'node-a');
  assert.equal(labels['io.coxswain.pod.uid'], 'u-1');
  assert.equal(labels['io.coxswain.pod.namespace'], 'ns');
  assert.equal(labels['io.coxswain.pod.name'], 'pod');
  assert.equal(labels['io.coxswain.container.name'], 'web');
  assert.equal(labels['io.coxswain.container.attempt'], '3');
  assert.equal(labels['io.coxswain.container.type'], 'app');
  assert.deepEqual(identityOf(labels), web);
});

test('the owner filter selects by cluster and node together', () => {
  assert.deepEqual(ownerFilter({ cluster: '0a1b2c3d', node: 'n' }), [
    'io.coxswain.cluster=0a1b2c3d',
    'io.coxswain.node=n',
  ]);
});

test('containers without our labels have no identity', () => {
  assert.equal(identityOf(undefined), undefined);
  assert.equal(identityOf({}), undefined);
  assert.equal(identityOf({ [LABELS.podUid]: 'u-1' }), undefined);
  assert.equal(identityOf({ [LABELS.podUid]: 'u-1', [LABELS.containerType]: 'other' }), undefined);
});

test('a malformed attempt label reads as attempt 0', () => {
  const labels = { ...labelsFor({ cluster: '0a1b2c3d', node: 'n' }, web), [LABELS.attempt]: 'x' };
  assert.equal(identityOf(labels)?.attempt, 0);
});

test('Docker names are unique per pod uid, container and attempt; sandboxes are POD', () => {
  assert.equal(dockerName(web), 'coxswain_web_pod_ns_u-1_3');
  assert.equal(dockerName({ ...web, containerName: 'POD', type: 'sandbox', attempt: 0 }), 'coxswain_POD_pod_ns_u-1_0');
  assert.notEqual(dockerName(web), dockerName({ ...web, attempt: 4 }));
});

test("Docker's multiplexed frames become plain bytes in order", () => {
  const frame = (stream: number, text: string): Buffer => {
    const body = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  };
  assert.equal(
    demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more')])).toString(),
    'out\nerr\nmore',
  );
  assert.equal(demuxBuffer(Buffer.alloc(0)).length, 0);
});
