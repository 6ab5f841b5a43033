// Starts a real etcd (Debian's /usr/bin/etcd) for tests: one member on free loopback ports,
// a data folder under this run's root, client and peer TLS with client-certificate auth,
// from the etcd PKI that `coxctl pki init` makes (pkg/pki/etcd-pki.ts). Readiness is etcd
// answering a read over TLS, polled a bounded number of times. (Debian's etcdctl is in
// another package, etcd-client, so raw reads go through the etcd3 client instead.)

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { ensureEtcdPki, type EtcdPkiPaths } from '../../pkg/pki/index.js';
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
