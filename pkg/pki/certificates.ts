// Certificates for the cluster: a CA, certificates it issues (client and/or server), CSR
// signing for nodes that join later, and the CA public-key hash a joining node pins.
// EC P-256 keys; PEM everywhere (keys as PKCS#8).

import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 wants the Web Crypto API (its DOM `Crypto`); Node's global crypto is that API
// (typed as the DOM's since the tree type-checks the dashboard's browser code too).
x509.cryptoProvider.set(globalThis.crypto);

type CryptoKey = webcrypto.CryptoKey;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export type Usage = 'client' | 'server';

export interface IssueOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: Usage[];
  validityDays?: number;
  /** Validity in seconds (takes precedence over validityDays). */
  validitySeconds?: number;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function der(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', der(keyPem), ALG, true, ['sign']);
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

/** `CN=x, O=a, O=b` with values escaped for the DN parser. */
function distinguishedName(commonName: string, organizations: string[] = []): string {
  const esc = (v: string): string => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${esc(commonName)}`, ...organizations.map((o) => `O=${esc(o)}`)].join(', ');
}

export async function createCA(commonName = 'coxswain-ca'): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: distinguishedName(commonName),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

function extensionsFor(usages: Usage[], dnsNames: string[], ipAddresses: string[]): x509.Extension[] {
  const ekus: string[] = [];
  if (usages.includes('server')) ekus.push(x509.ExtendedKeyUsage.serverAuth);
  if (usages.includes('client')) ekus.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(ekus, false),
  ];
  const names = [
    ...dnsNames.map((v) => ({ type: 'dns' as const, value: v })),
    ...ipAddresses.map((v) => ({ type: 'ip' as const, value: v })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  return extensions;
}

/** Whom a certificate is for: its subject name and public key. */
interface Holder {
  subject: string;
  publicKey: x509.PublicKey | CryptoKey;
}

async function sign(
  ca: KeyPairPem,
  holder: Holder,
  opts: { usages: Usage[]; dnsNames: string[]; ipAddresses: string[]; validityMs: number },
): Promise<string> {
  const { subject, publicKey } = holder;
  const caCert = new x509.X509Certificate(ca.certPem);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.validityMs),
    signingAlgorithm: ALG,
    publicKey,
    signingKey: await importPrivateKey(ca.keyPem),
    extensions: extensionsFor(opts.usages, opts.dnsNames, opts.ipAddresses),
  });
  return cert.toString('pem') + '\n';
}

function validityMs(opts: { validityDays?: number; validitySeconds?: number }): number {
  if (opts.validitySeconds !== undefined) return opts.validitySeconds * 1000;
  return (opts.validityDays ?? 365) * DAY_MS;
}

export async function issueCertificate(ca: KeyPairPem, opts: IssueOptions): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const certPem = await sign(
    ca,
    { subject: distinguishedName(opts.commonName, opts.organizations), publicKey: keys.publicKey },
    {
      usages: opts.usages,
      dnsNames: opts.dnsNames ?? [],
      ipAddresses: opts.ipAddresses ?? [],
      validityMs: validityMs(opts),
    },
  );
  return { certPem, keyPem: await exportKey(keys.privateKey) };
}

export interface CsrInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
}

/** A new key and a PEM certificate signing request for it (what a joining node sends). */
export async function createCsr(
  commonName: string,
  organizations: string[] = [],
  names: { dnsNames?: string[]; ipAddresses?: string[] } = {},
): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const sans = [
    ...(names.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: v })),
    ...(names.ipAddresses ?? []).map((v) => ({ type: 'ip' as const, value: v })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: distinguishedName(commonName, organizations),
    keys,
    signingAlgorithm: ALG,
    ...(sans.length > 0 ? { extensions: [new x509.SubjectAlternativeNameExtension(sans, false)] } : {}),
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

export function parseCsr(csrPem: string): CsrInfo {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  const cn = csr.subjectName.getField('CN')[0] ?? '';
  const ext = csr.getExtension('2.5.29.17');
  const san = ext === null ? undefined : new x509.SubjectAlternativeNameExtension(ext.rawData);
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') dnsNames.push(n.value);
    else if (n.type === 'ip') ipAddresses.push(n.value);
  }
  return { commonName: cn, organizations: csr.subjectName.getField('O'), dnsNames, ipAddresses };
}

/**
 * Signs a CSR after checking its self-signature; the subject is kept as requested, and for
 * serving certificates so are the requested DNS names and IPs.
 */
export async function signCsr(
  ca: KeyPairPem,
  csrPem: string,
  opts: { usages: Usage[]; validitySeconds: number },
): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('the certificate signing request is not signed by its own key');
  const names = opts.usages.includes('server') ? parseCsr(csrPem) : { dnsNames: [], ipAddresses: [] };
  return sign(
    ca,
    { subject: csr.subject, publicKey: csr.publicKey },
    {
      usages: opts.usages,
      dnsNames: names.dnsNames,
      ipAddresses: names.ipAddresses,
      validityMs: opts.validitySeconds * 1000,
    },
  );
}

/** When a certificate stops being valid, and when it started. */
export function certificateValidity(certPem: string): { notBefore: Date; notAfter: Date } {
  const cert = new X509Certificate(certPem);
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** `sha256:<hex>` of the CA's SubjectPublicKeyInfo, as kubeadm's discovery-token-ca-cert-hash. */
export function caPublicKeyHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** The SAN DNS names and IPs of a certificate. */
export function subjectAltNames(certPem: string): { dns: string[]; ip: string[] } {
  const cert = new X509Certificate(certPem);
  const dns: string[] = [];
  const ip: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(',').map((s) => s.trim())) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ip.push(part.slice(11).toLowerCase());
  }
  return { dns, ip };
}

/** True if the certificate names every wanted DNS name and IP (IPv6 loopback in either spelling). */
export function coversNames(certPem: string, wanted: { dns: string[]; ip: string[] }): boolean {
  const have = subjectAltNames(certPem);
  const ips = new Set(have.ip.map((a) => (a === '0:0:0:0:0:0:0:1' ? '::1' : a)));
  return wanted.dns.every((d) => have.dns.includes(d)) && wanted.ip.every((a) => ips.has(a));
}
