// etcd's certificates, as kubeadm lays them out: a CA of its own (etcd/ca.crt), separate
// from the cluster CA, so a certificate the cluster CA issues (to a node, a user) can never
// talk to etcd, which holds every Secret. It signs etcd's serving certificate (also usable
// as a client, for etcdctl on the member), a peer certificate (member to member), and the
// apiserver's client certificate (apiserver-etcd-client.crt, next to the cluster PKI).
// Idempotent: existing files are kept; the serving and peer certificates are re-issued
// when they lack a requested name.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { coversNames, createCA, issueCertificate, type IssueOptions, type KeyPairPem } from './certificates.js';

export interface EtcdPkiPaths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  peerCert: string;
  peerKey: string;
  /** The apiserver's client certificate (--etcd-certfile / --etcd-keyfile). */
  apiserverClientCert: string;
  apiserverClientKey: string;
}

function pair(certPath: string, keyPath: string): KeyPairPem | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

function save(certPath: string, keyPath: string, made: KeyPairPem): KeyPairPem {
  writeFileSync(certPath, made.certPem, { mode: 0o644 });
  writeFileSync(keyPath, made.keyPem, { mode: 0o600 });
  return made;
}

/** The names an etcd member answers to: loopback, this host, and any extra. */
export function etcdServingNames(extra: string[] = []): { dns: string[]; ip: string[] } {
  const dns = new Set(['localhost', hostname()]);
  const ip = new Set(['127.0.0.1', '::1']);
  for (const name of extra) {
    if (name === '') continue;
    if (isIP(name)) ip.add(name.toLowerCase());
    else dns.add(name);
  }
  return { dns: [...dns], ip: [...ip] };
}

/**
 * Makes (or completes) etcd's PKI: `<pkiDir>/etcd/{ca,server,peer}.{crt,key}` and
 * `<pkiDir>/apiserver-etcd-client.{crt,key}`. `hosts`: extra names or IPs for the member.
 */
export async function ensureEtcdPki(pkiDir: string, hosts: string[] = []): Promise<EtcdPkiPaths> {
  const dir = join(pkiDir, 'etcd');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p: EtcdPkiPaths = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    peerCert: join(dir, 'peer.crt'),
    peerKey: join(dir, 'peer.key'),
    apiserverClientCert: join(pkiDir, 'apiserver-etcd-client.crt'),
    apiserverClientKey: join(pkiDir, 'apiserver-etcd-client.key'),
  };
  const ca = pair(p.caCert, p.caKey) ?? save(p.caCert, p.caKey, await createCA('etcd-ca'));
  const names = etcdServingNames(hosts);
  const member = (commonName: string): IssueOptions => ({
    commonName,
    usages: ['server', 'client'],
    dnsNames: names.dns,
    ipAddresses: names.ip,
  });
  for (const [cert, key] of [
    [p.serverCert, p.serverKey],
    [p.peerCert, p.peerKey],
  ] as const) {
    const have = pair(cert, key);
    if (have === undefined || !coversNames(have.certPem, names))
      save(cert, key, await issueCertificate(ca, member(hostname())));
  }
  if (pair(p.apiserverClientCert, p.apiserverClientKey) === undefined) {
    const client = await issueCertificate(ca, { commonName: 'kube-apiserver-etcd-client', usages: ['client'] });
    save(p.apiserverClientCert, p.apiserverClientKey, client);
  }
  return p;
}
