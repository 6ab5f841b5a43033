// coxctl pki init: the cluster CA and every certificate and kubeconfig the control plane
// needs, generated offline into a folder (the answer to the bootstrap problem: later
// certificates are issued through the API).

import { ensureClusterPki, ensureNodeCredentials } from '../../pki/index.js';
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
