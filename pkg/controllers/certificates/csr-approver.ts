// CSR approver (Kubernetes' csrapproving controller, plus what k3s does for serving
// certificates): approves
// - kubelet client certificates asked for with a bootstrap token (a node joining), and
// - the same, asked for by the node itself with its current certificate (rotation);
// - kubelet serving certificates asked for by the node they name, for its own names only.
// A bootstrap token may not take over the name of a registered node, and a serving request
// naming anything the Node does not report is denied, with the reason (node-claims.ts).
// Anything else is left for a human (`coxctl certificate approve|deny`).

import { rfc3339 } from '../../api/meta.js';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import type { CertificateSigningRequest, CertificateSigningRequestCondition, Node } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { isNodeClientRequest, isNodeServingRequest, viewCsr, type CsrView } from './csr.js';
import { bootstrapNameIsFree, servingNamesBelongToNode, type ClaimCheck } from './node-claims.js';

const CSRS = RESOURCES.certificatesigningrequests;

type Verdict = { approve: string } | { refuse: string } | undefined;

function verdict(check: ClaimCheck, message: string): Verdict {
  return check.ok ? { approve: message } : { refuse: check.reason };
}

/** Approve (with Kubernetes' message), refuse to auto-approve (with why), or not ours to judge. */
function judge(csr: CsrView, node: (name: string) => Readonly<Node> | undefined): Verdict {
  const request = csr.request;
  if (request === undefined) return undefined;
  const nodeName = request.commonName.slice('system:node:'.length);
  if (isNodeClientRequest(csr)) {
    if (csr.groups.includes('system:bootstrappers')) {
      const message = 'Auto approving kubelet client certificate after SubjectAccessReview.';
      return verdict(bootstrapNameIsFree(request, node(nodeName)), message);
    }
    if (csr.username === request.commonName)
      return { approve: 'Auto approving self kubelet client certificate after SubjectAccessReview.' };
  }
  if (isNodeServingRequest(csr)) {
    const message = 'Auto approving kubelet serving certificate requested by its node.';
    return verdict(servingNamesBelongToNode(request, node(nodeName)), message);
  }
  return undefined;
}

export class CsrApproverController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly csrs: Informer<CertificateSigningRequest>;
  private readonly nodes: Informer<Node>;
  private readonly now: () => Date;
  private readonly log: (m: string) => void;

  constructor(
    deps: ControllerContext & { csrs: Informer<CertificateSigningRequest>; nodes: Informer<Node>; now?: () => Date },
  ) {
    const { client, csrs, log } = deps;
    this.client = client;
    this.csrs = csrs;
    this.nodes = deps.nodes;
    this.log = log;
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
    const v = judge(csr, (n) => this.nodes.get(n));
    if (v === undefined) return;
    // A claim the node may not make is denied with the reason, so the agent can say why.
    const approve = 'approve' in v;
    const next: CertificateSigningRequest = structuredClone(obj);
    const status = next.status ?? {};
    const at = rfc3339(this.now());
    const condition: CertificateSigningRequestCondition = approve
      ? { type: 'Approved', status: 'True', reason: 'AutoApproved', message: v.approve }
      : { type: 'Denied', status: 'True', reason: 'AutoDenied', message: v.refuse };
    if (!approve) this.log(`csrapproving: denied ${name}: ${v.refuse}`);
    status.conditions = [...(status.conditions ?? []), { ...condition, lastUpdateTime: at, lastTransitionTime: at }];
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
