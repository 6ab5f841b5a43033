import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadKubeconfig } from './kubeconfig.js';

function withKubeconfig(text: string, files: Record<string, string>, check: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    writeFileSync(join(dir, 'config'), text);
    check(join(dir, 'config'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: admin@c
contexts:
- name: other
  context: { cluster: nowhere, user: nobody }
- name: admin@c
  context: { cluster: c, user: admin, namespace: team }
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}
users:
- name: admin
  user:
    client-certificate: admin.crt
    client-key: /nonexistent/but/unused-data-wins
    client-key-data: ${Buffer.from('KEY PEM').toString('base64')}
`;

test('loadKubeconfig reads the current context: credentials inline or from files next to the kubeconfig', () => {
  withKubeconfig(KUBECONFIG, { 'admin.crt': 'CERT PEM' }, (path) => {
    const config = loadKubeconfig({ path });
    assert.deepEqual(config, {
      server: 'https://10.0.0.1:6443',
      caPem: 'CA PEM',
      certPem: 'CERT PEM',
      keyPem: 'KEY PEM',
      token: undefined,
      namespace: 'team',
      userName: 'admin',
    });
  });
});

test('loadKubeconfig names what a context points at and the kubeconfig lacks', () => {
  withKubeconfig(KUBECONFIG, {}, (path) => {
    assert.throws(() => loadKubeconfig({ path, context: 'other' }), {
      message: `kubeconfig ${path}: no cluster named "nowhere"`,
    });
    assert.throws(() => loadKubeconfig({ path, context: 'missing' }), {
      message: `kubeconfig ${path}: no context named "missing"`,
    });
  });
});
