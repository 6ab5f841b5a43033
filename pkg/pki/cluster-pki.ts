// The certificates a cluster starts with, made offline from the CA (the answer to the
// bootstrap problem; every later certificate is issued through the API). Idempotent:
// existing keys are never overwritten; the serving certificate is re-issued when it lacks
// a requested name.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { coversNames, createCA, issueCertificate, type IssueOptions, type KeyPairPem } from './certificates.js';
import { ensureEtcdPki, type EtcdPkiPaths } from './etcd-pki.js';
import { writeKubeconfig } from './kubeconfig.js';

export interface ClusterPkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  adminKubeconfig: string;
  schedulerKubeconfig: string;
  controllerManagerKubeconfig: string;
  /** etcd's own CA, its member certificates and the apiserver's etcd client certificate. */
  etcd: EtcdPkiPaths;
}

export interface ClusterPkiOptions {
  /** The apiserver URL written into kubeconfigs. */
  server: string;
  /** Extra names or IPs for the apiserver's serving certificate. */
  apiserverHosts?: string[];
  clusterName?: string;
  /** Extra names or IPs for etcd's serving and peer certificates. */
  etcdHosts?: string[];
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
}

function loadOrCreate(certPath: string, keyPath: string, make: () => Promise<KeyPairPem>): Promise<KeyPairPem> {
  if (existsSync(certPath) && existsSync(keyPath)) {
    return Promise.resolve({ certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') });
  }
  return make().then((pair) => {
    writeFileSync(certPath, pair.certPem, { mode: 0o644 });
    writeSecret(keyPath, pair.keyPem);
    return pair;
  });
}

/** Addresses and names the apiserver should be reachable by. */
export function apiserverServingNames(extra: string[], server: string): { dns: string[]; ip: string[] } {
  const dns = new Set([
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    hostname(),
  ]);
  const ip = new Set(['127.0.0.1', '::1', '10.96.0.1']);
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') ip.add(a.address);
  }
  const serverHost = new URL(server).hostname.replace(/^\[|\]$/g, '');
  for (const name of [...extra, serverHost]) {
    if (name === '') continue;
    if (isIP(name)) ip.add(name.toLowerCase());
    else dns.add(name);
  }
  return { dns: [...dns], ip: [...ip] };
}

export async function ensureClusterPki(dir: string, opts: ClusterPkiOptions): Promise<ClusterPkiPaths> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const etcd = await ensureEtcdPki(dir, opts.etcdHosts ?? []);
  const p: ClusterPkiPaths = {
    dir,
    etcd,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    kubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'service-account.key'),
    serviceAccountPub: join(dir, 'service-account.pub'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    schedulerKubeconfig: join(dir, 'scheduler.kubeconfig'),
    controllerManagerKubeconfig: join(dir, 'controller-manager.kubeconfig'),
  };
  const ca = await loadOrCreate(p.caCert, p.caKey, () => createCA('coxswain-ca'));

  const names = apiserverServingNames(opts.apiserverHosts ?? [], opts.server);
  const serving: IssueOptions = {
    commonName: 'kube-apiserver',
    usages: ['server'],
    dnsNames: names.dns,
    ipAddresses: names.ip,
  };
  let apiserver = await loadOrCreate(p.apiserverCert, p.apiserverKey, () => issueCertificate(ca, serving));
  if (!coversNames(apiserver.certPem, names)) {
    apiserver = await issueCertificate(ca, serving);
    writeFileSync(p.apiserverCert, apiserver.certPem, { mode: 0o644 });
    writeSecret(p.apiserverKey, apiserver.keyPem);
  }
  await loadOrCreate(p.kubeletClientCert, p.kubeletClientKey, () =>
    issueCertificate(ca, {
      commonName: 'kube-apiserver-kubelet-client',
      organizations: ['system:masters'],
      usages: ['client'],
    }),
  );
  const admin = await loadOrCreate(p.adminCert, p.adminKey, () =>
    issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usages: ['client'] }),
  );

  if (!existsSync(p.serviceAccountKey)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeSecret(p.serviceAccountKey, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(p.serviceAccountPub, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
  }

  const clusterName = opts.clusterName ?? 'coxswain';
  const kubeconfig = (path: string, userName: string, pair: KeyPairPem): void => {
    writeKubeconfig(path, {
      clusterName,
      server: opts.server,
      caPem: ca.certPem,
      userName,
      certPem: pair.certPem,
      keyPem: pair.keyPem,
    });
  };
  kubeconfig(p.adminKubeconfig, 'admin', admin);
  const scheduler = await loadOrCreate(join(dir, 'scheduler.crt'), join(dir, 'scheduler.key'), () =>
    issueCertificate(ca, { commonName: 'system:kube-scheduler', usages: ['client'] }),
  );
  kubeconfig(p.schedulerKubeconfig, 'system:kube-scheduler', scheduler);
  const cm = await loadOrCreate(join(dir, 'controller-manager.crt'), join(dir, 'controller-manager.key'), () =>
    issueCertificate(ca, { commonName: 'system:kube-controller-manager', usages: ['client'] }),
  );
  kubeconfig(p.controllerManagerKubeconfig, 'system:kube-controller-manager', cm);
  return p;
}

export interface NodeCredentialPaths {
  kubeconfig: string;
  servingCert: string;
  servingKey: string;
  caCert: string;
}

/**
 * Credentials for a node agent made offline from the CA: a kubeconfig for
 * `system:node:<name>` (group system:nodes) and a serving certificate for its logs/exec
 * port. (Nodes joining with a bootstrap token get theirs through a CSR instead.)
 */
export async function ensureNodeCredentials(
  pkiDir: string,
  nodeName: string,
  opts: { server: string; addresses: string[] },
): Promise<NodeCredentialPaths> {
  const ca: KeyPairPem = {
    certPem: readFileSync(join(pkiDir, 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(pkiDir, 'ca.key'), 'utf8'),
  };
  const dir = join(pkiDir, 'nodes', nodeName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const client = await loadOrCreate(join(dir, 'kubelet-client.crt'), join(dir, 'kubelet-client.key'), () =>
    issueCertificate(ca, {
      commonName: `system:node:${nodeName}`,
      organizations: ['system:nodes'],
      usages: ['client'],
    }),
  );
  const names = { dns: [nodeName, 'localhost'], ip: ['127.0.0.1', ...opts.addresses.filter((a) => isIP(a))] };
  const servingOpts: IssueOptions = {
    commonName: nodeName,
    usages: ['server'],
    dnsNames: names.dns,
    ipAddresses: names.ip,
  };
  let serving = await loadOrCreate(join(dir, 'kubelet.crt'), join(dir, 'kubelet.key'), () =>
    issueCertificate(ca, servingOpts),
  );
  if (!coversNames(serving.certPem, names)) {
    serving = await issueCertificate(ca, servingOpts);
    writeFileSync(join(dir, 'kubelet.crt'), serving.certPem, { mode: 0o644 });
    writeSecret(join(dir, 'kubelet.key'), serving.keyPem);
  }
  const kubeconfig = join(dir, 'kubelet.kubeconfig');
  writeKubeconfig(kubeconfig, {
    clusterName: 'coxswain',
    server: opts.server,
    caPem: ca.certPem,
    userName: `system:node:${nodeName}`,
    certPem: client.certPem,
    keyPem: client.keyPem,
  });
  return {
    kubeconfig,
    servingCert: join(dir, 'kubelet.crt'),
    servingKey: join(dir, 'kubelet.key'),
    caCert: join(pkiDir, 'ca.crt'),
  };
}
