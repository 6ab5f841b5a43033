// What the certificate controllers read from a CertificateSigningRequest.

import { KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER } from '../../bootstrap/index.js';
import type { CertificateSigningRequest } from '../../api/types/index.js';
import { parseCsr, type CsrInfo } from '../../pki/index.js';

export interface CsrView {
  name: string;
  signerName: string;
  username: string;
  groups: string[];
  usages: string[];
  expirationSeconds: number | undefined;
  requestPem: string;
  request: CsrInfo | undefined;
  approved: boolean;
  denied: boolean;
  failed: boolean;
  issued: boolean;
}

export function viewCsr(obj: Readonly<CertificateSigningRequest>): CsrView {
  const spec: Partial<NonNullable<CertificateSigningRequest['spec']>> = obj.spec ?? {};
  const status = obj.status ?? {};
  const has = (t: string): boolean => (status.conditions ?? []).some((c) => c.type === t && c.status !== 'False');
  const requestPem = Buffer.from(spec.request ?? '', 'base64').toString('utf8');
  let request: CsrInfo | undefined;
  try {
    request = parseCsr(requestPem);
  } catch {
    request = undefined;
  }
  return {
    name: obj.metadata.name ?? '',
    signerName: spec.signerName ?? '',
    username: spec.username ?? '',
    groups: spec.groups ?? [],
    usages: spec.usages ?? [],
    expirationSeconds: spec.expirationSeconds,
    requestPem,
    request,
    approved: has('Approved'),
    denied: has('Denied'),
    failed: has('Failed'),
    issued: (status.certificate ?? '') !== '',
  };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** A client certificate request for a kubelet: CN system:node:<name>, O system:nodes, no SANs. */
export function isNodeClientRequest(csr: CsrView): boolean {
  const r = csr.request;
  if (csr.signerName !== KUBELET_CLIENT_SIGNER || r === undefined) return false;
  const allowedUsages = ['digital signature', 'key encipherment', 'client auth'];
  return (
    r.commonName.startsWith('system:node:') &&
    r.commonName.length > 'system:node:'.length &&
    sameSet(r.organizations, ['system:nodes']) &&
    r.dnsNames.length === 0 &&
    r.ipAddresses.length === 0 &&
    csr.usages.every((u) => allowedUsages.includes(u)) &&
    csr.usages.includes('client auth')
  );
}

/** A serving certificate request from the node it names. */
export function isNodeServingRequest(csr: CsrView): boolean {
  const r = csr.request;
  if (csr.signerName !== KUBELET_SERVING_SIGNER || r === undefined) return false;
  const allowedUsages = ['digital signature', 'key encipherment', 'server auth'];
  return (
    r.commonName === csr.username &&
    r.commonName.startsWith('system:node:') &&
    sameSet(r.organizations, ['system:nodes']) &&
    csr.usages.every((u) => allowedUsages.includes(u)) &&
    csr.usages.includes('server auth') &&
    r.dnsNames.length + r.ipAddresses.length > 0
  );
}

/** Kubernetes' signer for client certificates an admin approves (`kubectl certificate approve`). */
export const APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

/** A client certificate request for the apiserver-client signer: client auth only, any subject. */
export function isApiserverClientRequest(csr: CsrView): boolean {
  const allowedUsages = ['digital signature', 'key encipherment', 'client auth'];
  return (
    csr.signerName === APISERVER_CLIENT_SIGNER &&
    csr.request !== undefined &&
    csr.request.commonName !== '' &&
    csr.usages.every((u) => allowedUsages.includes(u)) &&
    csr.usages.includes('client auth')
  );
}
