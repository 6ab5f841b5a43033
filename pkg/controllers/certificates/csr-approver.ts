// CSR approver (Kubernetes' csrapproving controller, plus what k3s does for serving
// certificates): approves
// - kubelet client certificates asked for with a bootstrap token (a node joining), and
// - the same, asked for by the node itself with its current certificate (rotation);
// - kubelet serving certificates asked for by the node they name.
// Anything else is left for a human (`coxctl certificate approve|deny`).

import { rfc3339 } from '../../api/meta.js';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import type { CertificateSigningRequest } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { isNodeClientRequest, isNodeServingRequest, viewCsr } from './csr.js';

const CSRS = RESOURCES.certificatesigningrequests;

function approvalReason(csr: ReturnType<typeof viewCsr>): string | undefined {
  if (isNodeClientRequest(csr)) {
    if (csr.groups.includes('system:bootstrappers'))
      return 'Auto approving kubelet client certificate after SubjectAccessReview.';
    if (csr.username === csr.request?.commonName)
      return 'Auto approving self kubelet client certificate after SubjectAccessReview.';
  }
  if (isNodeServingRequest(csr)) return 'Auto approving kubelet serving certificate requested by its node.';
  return undefined;
}

export class CsrApproverController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly csrs: Informer<CertificateSigningRequest>;
  private readonly now: () => Date;

  constructor(deps: ControllerContext & { csrs: Informer<CertificateSigningRequest>; now?: () => Date }) {
    const { client, csrs, log } = deps;
    this.client = client;
    this.csrs = csrs;
    this.now = deps.now ?? (() => new Date());
    this.loop = new ReconcileLoop('csrapproving', (key) => this.reconcile(key), { log });
    csrs.addHandler({
      onAdd: (c) => this.loop.enqueue(c.metadata.name ?? ''),
      onUpdate: (_o, c) => this.loop.enqueue(c.metadata.name ?? ''),
    });
  }

  async reconcile(name: string): Promise<void> {
    const obj = this.csrs.get(name);
    if (obj === undefined) return;
    const csr = viewCsr(obj);
    if (csr.approved || csr.denied || csr.failed || csr.issued) return;
    const message = approvalReason(csr);
    if (message === undefined) return;
    const next: CertificateSigningRequest = structuredClone(obj);
    const status = next.status ?? {};
    const at = rfc3339(this.now());
    status.conditions = [
      ...(status.conditions ?? []),
      { type: 'Approved', status: 'True', reason: 'AutoApproved', message, lastUpdateTime: at, lastTransitionTime: at },
    ];
    next.status = status;
    try {
      await this.client.requestJson({
        method: 'PUT',
        path: resourcePath(CSRS, { name, subresource: 'approval' }),
        body: next,
      });
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
