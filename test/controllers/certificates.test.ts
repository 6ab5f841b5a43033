// CSR approving and signing controllers below end to end: a node client CSR sent with a
// bootstrap token (what a joining kubelet does) is approved and signed by the cluster CA; a
// node CSR from anyone else waits for a human, and is signed once an admin approves it.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bootstrapTokenSecret, generateBootstrapToken, KUBELET_CLIENT_SIGNER } from '../../pkg/bootstrap/index.js';
import { rfc3339, type KubeObject } from '../../pkg/api/meta.js';
import { resourcePath } from '../../pkg/api/registry.js';
import { loadKubeconfig, RestClient } from '../../pkg/client/index.js';
import { createCsr } from '../../pkg/pki/index.js';
import { eventually } from '../harness/clients.js';
import { conditionStatus, CR, statusOf, useControllerPlane } from '../harness/controller-plane.js';

const cp = useControllerPlane(['csrapproving', 'csrsigning']);

async function nodeClientCsr(client: RestClient, node: string): Promise<string> {
  const { csrPem } = await createCsr(`system:node:${node}`, ['system:nodes']);
  const created = await client.create(CR.csrs, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'node-csr-' },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: KUBELET_CLIENT_SIGNER,
      usages: ['digital signature', 'key encipherment', 'client auth'],
    },
  });
  return created.metadata.name ?? '';
}

function certificateOf(csr: KubeObject): X509Certificate | undefined {
  const b64 = statusOf(csr)['certificate'];
  return typeof b64 === 'string' && b64 !== '' ? new X509Certificate(Buffer.from(b64, 'base64')) : undefined;
}

async function issued(name: string): Promise<X509Certificate> {
  let cert: X509Certificate | undefined;
  await eventually(
    async () => {
      cert = certificateOf(await cp.client.get(CR.csrs, name));
      return cert !== undefined;
    },
    { what: `certificate issued for ${name}` },
  );
  if (cert === undefined) throw new Error('unreachable: eventually returned');
  return cert;
}

/** A client that authenticates with a new bootstrap token, as a joining node does. */
async function bootstrapClient(): Promise<RestClient> {
  const { id, secret, token } = generateBootstrapToken();
  await cp.client.create(CR.secrets, bootstrapTokenSecret(id, secret, { ttlSeconds: 3600 }), {
    namespace: 'kube-system',
  });
  return new RestClient({
    ...loadKubeconfig({ path: cp.plane.pki.adminKubeconfig }),
    certPem: undefined,
    keyPem: undefined,
    token,
  });
}

test('a node client CSR sent with a bootstrap token is approved and signed by the cluster CA', async () => {
  const joining = await bootstrapClient();
  try {
    const name = await nodeClientCsr(joining, 'joiner');
    const cert = await issued(name);
    assert.equal(conditionStatus(await cp.client.get(CR.csrs, name), 'Approved'), 'True');
    assert.match(cert.subject, /CN=system:node:joiner/);
    assert.match(cert.subject, /O=system:nodes/);
    assert.ok(cert.checkIssued(new X509Certificate(readFileSync(cp.plane.pki.caCert))), 'issued by the cluster CA');
  } finally {
    joining.close();
  }
});

test('a node CSR from someone else is not auto-approved; once an admin approves it, it is signed', async () => {
  const { client } = cp;
  const manual = await nodeClientCsr(client, 'manual');
  // A later bootstrap CSR is approved: the approver has had its look at the manual one.
  const joining = await bootstrapClient();
  try {
    await issued(await nodeClientCsr(joining, 'later'));
  } finally {
    joining.close();
  }
  const pending = await client.get(CR.csrs, manual);
  assert.equal(conditionStatus(pending, 'Approved'), undefined, 'left for a human');
  assert.equal(certificateOf(pending), undefined);

  const at = rfc3339(new Date());
  const conditions = [
    {
      type: 'Approved',
      status: 'True',
      reason: 'AdminApproved',
      message: 'approved by the test',
      lastUpdateTime: at,
      lastTransitionTime: at,
    },
  ];
  await client.requestJson({
    method: 'PUT',
    path: resourcePath(CR.csrs, { name: manual, subresource: 'approval' }),
    body: { ...pending, status: { ...statusOf(pending), conditions } },
  });
  const cert = await issued(manual);
  assert.match(cert.subject, /CN=system:node:manual/);
});
