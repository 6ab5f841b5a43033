// Certificates of one control-plane member (a machine running an etcd member and an
// apiserver) in an HA control plane, as kubeadm gives each control-plane node its own: etcd
// server and peer certificates and an apiserver serving certificate whose SANs hold that
// member's addresses, issued from the cluster's CAs (`coxctl pki init` made them). They live in
// `<pkiDir>/members/<name>/`, to be copied to that machine with the CA certificates.
// Idempotent: kept while they name every requested address, re-issued otherwise.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coversNames, issueCertificate, type IssueOptions, type KeyPairPem } from './certificates.js';
import { apiserverServingNames } from './cluster-pki.js';
import { etcdServingNames } from './etcd-pki.js';

export interface MemberPkiPaths {
  dir: string;
  etcdServerCert: string;
  etcdServerKey: string;
  etcdPeerCert: string;
  etcdPeerKey: string;
  apiserverCert: string;
  apiserverKey: string;
}

export interface MemberPkiOptions {
  /** The member's name (etcd's --name; the folder under members/). */
  name: string;
  /** Addresses (IPs or DNS names) the member's etcd and apiserver are reached at. */
  addresses: string[];
  /** More names for the apiserver certificate only (a load balancer, the `kubernetes` Service IP). */
  apiserverSans?: string[];
}

/** A DNS label: what may name a member's folder and etcd member. */
const MEMBER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function readPair(certPath: string, keyPath: string): KeyPairPem | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

async function ensureIssued(ca: KeyPairPem, files: { cert: string; key: string }, opts: IssueOptions): Promise<void> {
  const have = readPair(files.cert, files.key);
  const wanted = { dns: opts.dnsNames ?? [], ip: opts.ipAddresses ?? [] };
  if (have !== undefined && coversNames(have.certPem, wanted)) return;
  const made = await issueCertificate(ca, opts);
  writeFileSync(files.cert, made.certPem, { mode: 0o644 });
  writeFileSync(files.key, made.keyPem, { mode: 0o600 });
}

function loadCa(certPath: string, keyPath: string): KeyPairPem {
  const ca = readPair(certPath, keyPath);
  if (ca === undefined) throw new Error(`no CA at ${certPath} (run "coxctl pki init" first)`);
  return ca;
}

export async function ensureMemberPki(pkiDir: string, opts: MemberPkiOptions): Promise<MemberPkiPaths> {
  if (!MEMBER_NAME.test(opts.name)) throw new Error(`member name "${opts.name}" is not a DNS label`);
  if (opts.addresses.length === 0) throw new Error(`member ${opts.name} needs at least one address`);
  const dir = join(pkiDir, 'members', opts.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p: MemberPkiPaths = {
    dir,
    etcdServerCert: join(dir, 'etcd-server.crt'),
    etcdServerKey: join(dir, 'etcd-server.key'),
    etcdPeerCert: join(dir, 'etcd-peer.crt'),
    etcdPeerKey: join(dir, 'etcd-peer.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
  };
  const etcdCa = loadCa(join(pkiDir, 'etcd', 'ca.crt'), join(pkiDir, 'etcd', 'ca.key'));
  const etcdNames = etcdServingNames(opts.addresses);
  // Peers check each other's certificates both ways: server and client usage on both.
  const etcdMember: IssueOptions = {
    commonName: opts.name,
    usages: ['server', 'client'],
    dnsNames: etcdNames.dns,
    ipAddresses: etcdNames.ip,
  };
  await ensureIssued(etcdCa, { cert: p.etcdServerCert, key: p.etcdServerKey }, etcdMember);
  await ensureIssued(etcdCa, { cert: p.etcdPeerCert, key: p.etcdPeerKey }, etcdMember);

  const clusterCa = loadCa(join(pkiDir, 'ca.crt'), join(pkiDir, 'ca.key'));
  const first = opts.addresses[0] ?? '';
  const host = first.includes(':') ? `[${first}]` : first;
  const apiNames = apiserverServingNames([...opts.addresses, ...(opts.apiserverSans ?? [])], `https://${host}`);
  await ensureIssued(
    clusterCa,
    { cert: p.apiserverCert, key: p.apiserverKey },
    { commonName: 'kube-apiserver', usages: ['server'], dnsNames: apiNames.dns, ipAddresses: apiNames.ip },
  );
  return p;
}
