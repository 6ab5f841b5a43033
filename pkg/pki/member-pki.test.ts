import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { subjectAltNames } from './certificates.js';
import { ensureClusterPki } from './cluster-pki.js';
import { ensureMemberPki } from './member-pki.js';

test("a member's etcd and apiserver certificates name its addresses and chain to the cluster's CAs", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'member-pki-'));
  try {
    const cluster = await ensureClusterPki(dir, { server: 'https://198.18.0.11:6443' });
    const m = await ensureMemberPki(dir, {
      name: 'cp2',
      addresses: ['198.18.0.12', 'cp2.example'],
      apiserverSans: ['10.96.0.1'],
    });
    for (const file of [m.etcdServerCert, m.etcdPeerCert]) {
      const names = subjectAltNames(readFileSync(file, 'utf8'));
      assert.ok(names.ip.includes('198.18.0.12') && names.dns.includes('cp2.example'), `${file}: ${names.ip}`);
      const cert = new X509Certificate(readFileSync(file));
      assert.ok(cert.verify(new X509Certificate(readFileSync(cluster.etcd.caCert)).publicKey), 'signed by the etcd CA');
    }
    const api = subjectAltNames(readFileSync(m.apiserverCert, 'utf8'));
    assert.ok(api.ip.includes('198.18.0.12') && api.ip.includes('10.96.0.1'), `${api.ip}`);
    assert.ok(api.dns.includes('kubernetes.default.svc'));
    const apiCert = new X509Certificate(readFileSync(m.apiserverCert));
    assert.ok(apiCert.verify(new X509Certificate(readFileSync(cluster.caCert)).publicKey), 'signed by the cluster CA');

    // Idempotent: the same request keeps the files; a new address re-issues them.
    const before = readFileSync(m.apiserverCert, 'utf8');
    await ensureMemberPki(dir, { name: 'cp2', addresses: ['198.18.0.12', 'cp2.example'] });
    assert.equal(readFileSync(m.apiserverCert, 'utf8'), before);
    await ensureMemberPki(dir, { name: 'cp2', addresses: ['198.18.0.99'] });
    assert.ok(subjectAltNames(readFileSync(m.apiserverCert, 'utf8')).ip.includes('198.18.0.99'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member name that is not a DNS label, no address, or no CA yet: refused with a reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'member-pki-'));
  try {
    await assert.rejects(ensureMemberPki(dir, { name: 'cp1', addresses: ['10.0.0.1'] }), /no CA at .*coxctl pki init/);
    await ensureClusterPki(dir, { server: 'https://127.0.0.1:6443' });
    await assert.rejects(ensureMemberPki(dir, { name: '../x', addresses: ['10.0.0.1'] }), /not a DNS label/);
    await assert.rejects(ensureMemberPki(dir, { name: 'cp1', addresses: [] }), /at least one address/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
