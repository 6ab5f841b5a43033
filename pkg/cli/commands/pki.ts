// coxctl pki init: the cluster CA and every certificate and kubeconfig the control plane
// needs, generated offline into a folder (the answer to the bootstrap problem: later
// certificates are issued through the API).

import { ensureClusterPki } from '../../pki/index.js';
import type { CliContext } from '../context.js';

export async function runPkiInit(ctx: CliContext, flags: { dir: string; server: string; san?: string[] }): Promise<void> {
  const paths = await ensureClusterPki(flags.dir, { server: flags.server, apiserverHosts: flags.san ?? [] });
  ctx.out(`cluster PKI ready in ${flags.dir}`);
  ctx.out(`admin kubeconfig: ${paths.adminKubeconfig}`);
}
