// Starts a real etcd (Debian's /usr/bin/etcd) for tests: one member on free loopback ports,
// a data folder under this run's root, client and peer TLS with client-certificate auth,
// from the etcd PKI that `coxctl pki init` makes (pkg/pki/etcd-pki.ts). Readiness is etcd
// answering a read over TLS, polled a bounded number of times. (Debian's etcdctl is in
// another package, etcd-client, so raw reads go through the etcd3 client instead.)

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { ensureClusterPki, ensureEtcdPki, ensureMemberPki, type EtcdPkiPaths } from '../../pkg/pki/index.js';
import { exited, freePort, killHard, stopBounded } from './control-plane.js';
import { runRoot } from './run-root.js';

export const ETCD_BIN = process.env['COXSWAIN_ETCD'] ?? '/usr/bin/etcd';

export interface EtcdProcess {
  dir: string;
  clientUrl: string;
  pki: EtcdPkiPaths;
  child: ChildProcess;
  /** kill -9 etcd. */
  crash(): Promise<void>;
  /** Starts etcd again on the same ports and data folder. */
  restart(): Promise<void>;
  /** The raw value of an etcd key (read with the apiserver's client certificate), or undefined. */
  rawGet(key: string): Promise<Buffer | undefined>;
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Where the PKI lives (default: a `certs` folder in etcd's own folder). */
  pkiDir?: string;
}

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const dir = mkdtempSync(join(runRoot(), 'etcd-'));
  const pki = await ensureEtcdPki(opts.pkiDir ?? join(dir, 'certs'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `https://127.0.0.1:${clientPort}`;
  const peerUrl = `https://127.0.0.1:${peerPort}`;
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const args = [
    '--name=m1',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=m1=${peerUrl}`,
    '--initial-cluster-state=new',
    `--cert-file=${pki.serverCert}`,
    `--key-file=${pki.serverKey}`,
    `--trusted-ca-file=${pki.caCert}`,
    '--client-cert-auth',
    `--peer-cert-file=${pki.peerCert}`,
    `--peer-key-file=${pki.peerKey}`,
    `--peer-trusted-ca-file=${pki.caCert}`,
    '--peer-client-cert-auth',
    '--logger=zap',
    '--log-level=error',
  ];
  const client = (): Etcd3 =>
    new Etcd3({
      hosts: [clientUrl],
      credentials: {
        rootCertificate: readFileSync(pki.caCert),
        certChain: readFileSync(pki.apiserverClientCert),
        privateKey: readFileSync(pki.apiserverClientKey),
      },
      faultHandling: { host: () => noop, global: noop },
    });
  const rawGet = async (key: string): Promise<Buffer | undefined> => {
    const c = client();
    try {
      const res = await c.kv.range({ key: Buffer.from(key) }, { deadline: new Date(Date.now() + 5000) });
      return res.kvs[0]?.value;
    } finally {
      c.close();
    }
  };
  const healthy = (): Promise<boolean> =>
    rawGet('health').then(
      () => true,
      () => false,
    );
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    for (let i = 0; i < 120; i++) {
      if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${stderr}`);
      if (await healthy()) return child;
      await sleep(250);
    }
    await killHard(child);
    throw new Error(`etcd did not become healthy at ${clientUrl}: ${stderr}`);
  };
  const etcd: EtcdProcess = {
    dir,
    clientUrl,
    pki,
    child: await launch(),
    async crash() {
      etcd.child.kill('SIGKILL');
      await exited(etcd.child);
    },
    async restart() {
      etcd.child = await launch();
    },
    rawGet,
    async stop() {
      await stopBounded(etcd.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return etcd;
}

/** One member of a cluster from startEtcdCluster. */
export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** The running process, or undefined while crashed. */
  child: ChildProcess | undefined;
}

export interface EtcdCluster {
  dir: string;
  pki: EtcdPkiPaths;
  members: EtcdMember[];
  /** Every member's client URL (what --etcd-servers lists). */
  clientUrls: string[];
  /** The apiserver's client TLS material for the etcd3 client or EtcdStore. */
  tls: EtcdTls;
  /** kill -9 member i. */
  crash(i: number): Promise<void>;
  /** Starts member i again on its ports and data folder; resolves once it answers reads. */
  restart(i: number): Promise<void>;
  /** The index of the member that is raft leader now (asked of the live members' maintenance status). */
  leader(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartEtcdClusterOptions {
  /** The cluster PKI folder (default: a `certs` folder in the cluster's folder, made here). */
  pkiDir?: string;
}

/** The client TLS material of the etcd3 client or EtcdStore. */
export interface EtcdTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function etcdClient(urls: string[], tls: EtcdTls): Etcd3 {
  return new Etcd3({
    hosts: urls,
    credentials: { rootCertificate: tls.ca, certChain: tls.cert, privateKey: tls.key },
    faultHandling: { host: () => noop, global: noop },
  });
}

/** The index in `urls` of the member the answering members name as raft leader (undefined: none, or a dead one). */
async function askLeader(urls: (string | undefined)[], tls: EtcdTls): Promise<number | undefined> {
  const ids = new Map<string, number>();
  let leaderId: string | undefined;
  for (const [i, url] of urls.entries()) {
    if (url === undefined) continue;
    const c = etcdClient([url], tls);
    try {
      const status = await c.maintenance.status({ deadline: new Date(Date.now() + 2000) });
      ids.set(status.header.member_id, i);
      if (status.leader !== '0') leaderId = status.leader;
    } catch {
      // a member that does not answer is not the one to report
    } finally {
      c.close();
    }
  }
  return leaderId === undefined ? undefined : ids.get(leaderId);
}

/**
 * The index in `urls` (undefined: a member known dead) of the raft leader, asked of each
 * member's maintenance status. Right after a leader died the others may still name it: asked
 * again, a bounded number of times.
 */
export async function awaitLeader(urls: (string | undefined)[], tls: EtcdTls): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const index = await askLeader(urls, tls);
    if (index !== undefined) return index;
    await sleep(250);
  }
  throw new Error('no live etcd member reports a live leader');
}

/** A linearizable read through this member alone: true once it has a leader and answers. */
async function memberAnswers(url: string, tls: EtcdTls): Promise<boolean> {
  const c = etcdClient([url], tls);
  try {
    await c.kv.range({ key: Buffer.from('health') }, { deadline: new Date(Date.now() + 2000) });
    return true;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/**
 * n real etcd members on loopback, each with its own data folder, ports and certificates
 * (`coxctl pki member`: server and peer certificates naming its address), peer and client
 * TLS with client-certificate auth. Resolves once every member answers a linearizable read.
 */
export async function startEtcdCluster(n: number, opts: StartEtcdClusterOptions = {}): Promise<EtcdCluster> {
  if (!Number.isInteger(n) || n < 1 || n > 7) throw new Error(`an etcd cluster of ${n} members is not supported`);
  const dir = mkdtempSync(join(runRoot(), 'etcd-cluster-'));
  const pkiDir = opts.pkiDir ?? join(dir, 'certs');
  if (!existsSync(join(pkiDir, 'ca.crt'))) await ensureClusterPki(pkiDir, { server: 'https://127.0.0.1:6443' });
  const pki = await ensureEtcdPki(pkiDir);
  const tls = {
    ca: readFileSync(pki.caCert),
    cert: readFileSync(pki.apiserverClientCert),
    key: readFileSync(pki.apiserverClientKey),
  };
  const members: EtcdMember[] = [];
  for (let i = 0; i < n; i++) {
    const name = `m${i + 1}`;
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    members.push({
      name,
      clientUrl: `https://127.0.0.1:${await freePort()}`,
      peerUrl: `https://127.0.0.1:${await freePort()}`,
      dataDir,
      child: undefined,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const argsOf = async (m: EtcdMember): Promise<string[]> => {
    const certs = await ensureMemberPki(pkiDir, { name: m.name, addresses: ['127.0.0.1'] });
    return [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`,
      `--initial-advertise-peer-urls=${m.peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=coxswain-test',
      `--cert-file=${certs.etcdServerCert}`,
      `--key-file=${certs.etcdServerKey}`,
      `--trusted-ca-file=${pki.caCert}`,
      '--client-cert-auth',
      `--peer-cert-file=${certs.etcdPeerCert}`,
      `--peer-key-file=${certs.etcdPeerKey}`,
      `--peer-trusted-ca-file=${pki.caCert}`,
      '--peer-client-cert-auth',
      '--logger=zap',
      '--log-level=error',
    ];
  };
  const stderrOf = new Map<EtcdMember, string>();
  const spawnMember = async (m: EtcdMember): Promise<void> => {
    const child = spawn(ETCD_BIN, await argsOf(m), { stdio: ['ignore', 'ignore', 'pipe'] });
    stderrOf.set(m, '');
    child.stderr?.on('data', (c: Buffer) => stderrOf.set(m, ((stderrOf.get(m) ?? '') + c.toString()).slice(-4000)));
    m.child = child;
  };
  const awaitAnswers = async (m: EtcdMember): Promise<void> => {
    for (let attempt = 0; attempt < 120; attempt++) {
      if (m.child === undefined || m.child.exitCode !== null)
        throw new Error(`etcd member ${m.name} exited: ${stderrOf.get(m) ?? ''}`);
      if (await memberAnswers(m.clientUrl, tls)) return;
      await sleep(250);
    }
    throw new Error(`etcd member ${m.name} did not answer at ${m.clientUrl}: ${stderrOf.get(m) ?? ''}`);
  };
  const memberAt = (i: number): EtcdMember => {
    const m = members[i];
    if (m === undefined) throw new Error(`no etcd member ${i} (of ${members.length})`);
    return m;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => stopBounded(m.child)));
  };
  try {
    // Together: a member waits for a quorum of its peers before it answers.
    for (const m of members) await spawnMember(m);
    await Promise.all(members.map(awaitAnswers));
  } catch (err) {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const cluster: EtcdCluster = {
    dir,
    pki,
    members,
    clientUrls: members.map((m) => m.clientUrl),
    tls,
    async crash(i) {
      const m = memberAt(i);
      await killHard(m.child);
      m.child = undefined;
    },
    async restart(i) {
      const m = memberAt(i);
      if (m.child !== undefined && m.child.exitCode === null) throw new Error(`etcd member ${m.name} is running`);
      await spawnMember(m);
      await awaitAnswers(m);
    },
    leader: () =>
      awaitLeader(
        members.map((m) => (m.child === undefined ? undefined : m.clientUrl)),
        tls,
      ),
    async stop() {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
