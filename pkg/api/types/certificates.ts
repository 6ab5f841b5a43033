// certificates.k8s.io/v1 CertificateSigningRequest: how joining nodes get their certificates.

import type { KubeObject } from '../meta.js';
import type { ConditionStatus, Time } from './core.js';

export type KeyUsage =
  | 'signing'
  | 'digital signature'
  | 'content commitment'
  | 'key encipherment'
  | 'key agreement'
  | 'data encipherment'
  | 'cert sign'
  | 'crl sign'
  | 'encipher only'
  | 'decipher only'
  /** Kubernetes' KeyUsage "any" (x509's anyExtendedKeyUsage): a wire value, not a type. */
  | 'any'
  | 'server auth'
  | 'client auth'
  | 'code signing'
  | 'email protection'
  | 's/mime'
  | 'ipsec end system'
  | 'ipsec tunnel'
  | 'ipsec user'
  | 'timestamping'
  | 'ocsp signing'
  | 'microsoft sgc'
  | 'netscape sgc';

export interface CertificateSigningRequestSpec {
  /** PEM-encoded PKCS#10 request, base64 in JSON. */
  request: string;
  signerName: string;
  expirationSeconds?: number;
  usages?: KeyUsage[];
  /** Filled by the apiserver from the requester's identity. */
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface CertificateSigningRequestCondition {
  type: 'Approved' | 'Denied' | 'Failed';
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastUpdateTime?: Time;
  lastTransitionTime?: Time;
}

export interface CertificateSigningRequestStatus {
  conditions?: CertificateSigningRequestCondition[];
  /** PEM-encoded issued certificate, base64 in JSON. */
  certificate?: string;
}

export interface CertificateSigningRequest extends KubeObject {
  spec?: CertificateSigningRequestSpec;
  status?: CertificateSigningRequestStatus;
}
