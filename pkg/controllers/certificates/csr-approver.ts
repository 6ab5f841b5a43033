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
function judge(csr: CsrView, node: Readonly<Node> | undefined): Verdict {
  const request = csr.request;
  if (request === undefined) return undefined;
  if (isNodeClientRequest(csr)) {
    if (csr.groups.includes('system:bootstrappers')) {
      const message = 'Auto approving kubelet client certificate after SubjectAccessReview.';
      return verdict(bootstrapNameIsFree(request, node), message);
    }
    if (csr.username === request.commonName)
      return { approve: 'Auto approving self kubelet client certificate after SubjectAccessReview.' };
  }
  if (isNodeServingRequest(csr)) {
    const message = 'Auto approving kubelet serving certificate requested by its node.';
    return verdict(servingNamesBelongToNode(request, node), message);
  }
  return undefined;
}

/** Whether the verdict on this request depends on its Node. */
function needsNode(csr: CsrView): boolean {
  return (isNodeClientRequest(csr) && csr.groups.includes('system:bootstrappers')) || isNodeServingRequest(csr);
}

export class CsrApproverController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly csrs: Informer<CertificateSigningRequest>;
  private readonly now: () => Date;
  private readonly log: (m: string) => void;

  constructor(deps: ControllerContext & { csrs: Informer<CertificateSigningRequest>; now?: () => Date }) {
    const { client, csrs, log } = deps;
    this.client = client;
    this.csrs = csrs;
    this.log = log;
    this.now = deps.now ?? (() => new Date());
    this.loop = new ReconcileLoop('csrapproving', (key) => this.reconcile(key), { log });
    csrs.addHandler({
      onAdd: (c) => this.loop.enqueue(c.metadata.name ?? ''),
      onUpdate: (_o, c) => this.loop.enqueue(c.metadata.name ?? ''),
    });
  }

  /**
   * The Node a request names, read from the API: the informer's copy may lag (a node announces
   * its addresses just before asking for its serving certificate, and the two watches need not
   * arrive in order), and a verdict on a stale copy could deny a rightful request or let a
   * bootstrap token take a name just registered. CSRs are few: one read each costs nothing.
   */
  private async currentNode(csr: CsrView): Promise<Readonly<Node> | undefined> {
    const name = csr.request?.commonName.slice('system:node:'.length) ?? '';
    if (name === '') return undefined;
    try {
      return await this.client.get(RESOURCES.nodes, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async reconcile(name: string): Promise<void> {
    const obj = this.csrs.get(name);
    if (obj === undefined) return;
    const csr = viewCsr(obj);
    if (csr.approved || csr.denied || csr.failed || csr.issued) return;
    const v = judge(csr, needsNode(csr) ? await this.currentNode(csr) : undefined);
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
