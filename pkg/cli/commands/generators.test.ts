// The objects coxctl's generators build, checked against what kubectl 1.32 prints for the
// same flags with --dry-run=client -o yaml.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  configMapObject,
  containerNameFor,
  deploymentObject,
  dockerRegistrySecretObject,
  namespaceObject,
  parseEnvFile,
  parseFileSource,
  podObject,
  secretObject,
  serviceObject,
} from './generators.js';

describe('generators', () => {
  test('create deployment web --image=nginx --replicas=2 --port=80', () => {
    assert.deepEqual(deploymentObject({ name: 'web', images: ['nginx'], replicas: 2, port: 80 }), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        strategy: {},
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ image: 'nginx', name: 'nginx', resources: {}, ports: [{ containerPort: 80 }] }] },
        },
      },
      status: {},
    });
  });

  test('container names come from the image: path, tag and digest dropped; duplicates numbered', () => {
    assert.equal(containerNameFor('registry.local:5000/team/my_app:1.2'), 'my-app');
    assert.equal(containerNameFor('busybox@sha256:abc'), 'busybox');
    const d = deploymentObject({ name: 'two', images: ['a/x:1', 'b/x:2'], replicas: 1 });
    assert.deepEqual(
      d.spec?.template.spec?.containers.map((c) => c.name),
      ['x', 'x-1'],
    );
  });

  test('namespace', () => {
    assert.deepEqual(namespaceObject('ns1'), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ns1' },
      spec: {},
      status: {},
    });
  });

  test('configmap: text in data, bytes that are not UTF-8 in binaryData; a duplicate key is refused', () => {
    const cm = configMapObject('cm', [
      { key: 'a', value: Buffer.from('1') },
      { key: 'bin', value: Buffer.from([0xff, 0xfe]) },
    ]);
    assert.deepEqual(cm.data, { a: '1' });
    assert.deepEqual(cm.binaryData, { bin: '//4=' });
    assert.throws(
      () =>
        configMapObject('x', [
          { key: 'a', value: Buffer.from('1') },
          { key: 'a', value: Buffer.from('2') },
        ]),
      /cannot add key "a", another key by that name already exists in Data for ConfigMap "x"/,
    );
    assert.throws(() => configMapObject('x', [{ key: 'bad key', value: Buffer.from('') }]), /not valid key name/);
  });

  test('secret generic and docker-registry as kubectl encodes them', () => {
    assert.deepEqual(secretObject('s', [{ key: 'a', value: Buffer.from('1') }]).data, { a: 'MQ==' });
    // The exact bytes kubectl 1.32 prints for --docker-username=u --docker-password=p.
    assert.deepEqual(
      dockerRegistrySecretObject('r', { server: 'https://index.docker.io/v1/', username: 'u', password: 'p' }).data,
      {
        '.dockerconfigjson':
          'eyJhdXRocyI6eyJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8iOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19',
      },
    );
  });

  test('--from-file and --from-env-file parsing', () => {
    assert.deepEqual(parseFileSource('conf/app.ini'), { key: undefined, path: 'conf/app.ini' });
    assert.deepEqual(parseFileSource('k=conf/app.ini'), { key: 'k', path: 'conf/app.ini' });
    assert.throws(() => parseFileSource('=x'), /cannot be empty/);
    const entries = parseEnvFile('# comment\n\nA=1\n  B=two words\r\nC=\n', 'env');
    assert.deepEqual(
      entries.map((e) => [e.key, e.value.toString()]),
      [
        ['A', '1'],
        ['B', 'two words'],
        ['C', ''],
      ],
    );
    assert.throws(() => parseEnvFile('1BAD=x', 'env'), /not a valid key name in env line 1/);
  });

  test('run: args, or command with --command; env, labels, restart policy', () => {
    const pod = podObject({
      name: 'web',
      image: 'nginx',
      labels: { x: 'y' },
      env: ['A=1'],
      port: 80,
      restart: 'Never',
      args: ['sleep', '10'],
      command: false,
    });
    assert.deepEqual(pod.metadata.labels, { x: 'y' });
    assert.deepEqual(pod.spec?.containers[0], {
      image: 'nginx',
      name: 'web',
      resources: {},
      args: ['sleep', '10'],
      env: [{ name: 'A', value: '1' }],
      ports: [{ containerPort: 80 }],
    });
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.equal(pod.spec?.dnsPolicy, 'ClusterFirst');
    const cmd = podObject({
      name: 'c',
      image: 'x',
      env: [],
      restart: 'Always',
      args: ['sh', '-c', 'hi'],
      command: true,
    });
    assert.deepEqual(cmd.metadata.labels, { run: 'c' });
    assert.deepEqual(cmd.spec?.containers[0]?.command, ['sh', '-c', 'hi']);
    assert.throws(
      () => podObject({ name: 'c', image: 'x', env: ['NOVALUE'], restart: 'Always', args: [], command: false }),
      /invalid env NOVALUE/,
    );
  });

  test('expose: one port, or several named port-N; numeric and named target ports', () => {
    const one = serviceObject({
      name: 's',
      selector: { app: 'web' },
      ports: [80],
      targetPort: '8080',
      protocol: 'TCP',
    });
    assert.deepEqual(one.spec, { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'web' } });
    const many = serviceObject({ name: 's', selector: {}, ports: [80, 443], protocol: 'TCP', type: 'NodePort' });
    assert.deepEqual(
      many.spec?.ports?.map((p) => [p.name, p.targetPort]),
      [
        ['port-1', 80],
        ['port-2', 443],
      ],
    );
    assert.equal(many.spec?.type, 'NodePort');
    const named = serviceObject({ name: 's', selector: {}, ports: [80], targetPort: 'http', protocol: 'TCP' });
    assert.equal(named.spec?.ports?.[0]?.targetPort, 'http');
  });
});
