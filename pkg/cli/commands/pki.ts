// coxctl pki init: the cluster CA and every certificate and kubeconfig the control plane
// needs, generated offline into a folder (the answer to the bootstrap problem: later
// certificates are issued through the API).

import { ensureClusterPki, ensureMemberPki, ensureNodeCredentials } from '../../pki/index.js';
import type { CliContext } from '../context.js';

export async function runPkiInit(
  ctx: CliContext,
  flags: { dir: string; server: string; san?: string[]; etcdSan?: string[] },
): Promise<void> {
  const paths = await ensureClusterPki(flags.dir, {
    server: flags.server,
    apiserverHosts: flags.san ?? [],
    etcdHosts: flags.etcdSan ?? [],
  });
  ctx.out(`cluster PKI ready in ${flags.dir}`);
  ctx.out(`etcd CA: ${paths.etcd.caCert} (etcd serving: ${paths.etcd.serverCert}, peer: ${paths.etcd.peerCert})`);
  ctx.out(`apiserver etcd client: ${paths.etcd.apiserverClientCert}`);
  ctx.out(`admin kubeconfig: ${paths.adminKubeconfig}`);
}

export async function runPkiNode(
  ctx: CliContext,
  flags: { dir: string; server: string; name: string; ip?: string[] },
): Promise<void> {
  const paths = await ensureNodeCredentials(flags.dir, flags.name, {
    server: flags.server,
    addresses: flags.ip ?? ['127.0.0.1'],
  });
  ctx.out(`node ${flags.name}: kubeconfig ${paths.kubeconfig}, serving certificate ${paths.servingCert}`);
}

/** An HA control-plane member's etcd and apiserver certificates, for the addresses it is reached at. */
export async function runPkiMember(
  ctx: CliContext,
  flags: { dir: string; name: string; address?: string[]; san?: string[] },
): Promise<void> {
  const paths = await ensureMemberPki(flags.dir, {
    name: flags.name,
    addresses: flags.address ?? [],
    apiserverSans: flags.san ?? [],
  });
  ctx.out(`member ${flags.name}: certificates in ${paths.dir}`);
  ctx.out(`etcd serving: ${paths.etcdServerCert}, peer: ${paths.etcdPeerCert}; apiserver: ${paths.apiserverCert}`);
}
