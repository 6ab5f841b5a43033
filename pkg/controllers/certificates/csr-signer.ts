// CSR signer (Kubernetes' csrsigning controller): issues the certificate of every approved
// kubelet client or serving CSR with the cluster CA, valid for the CSR's expirationSeconds
// capped by --cluster-signing-duration. A request it cannot sign gets a Failed condition.

import { rfc3339 } from '../../api/meta.js';
import { readFileSync } from 'node:fs';
import { RESOURCES } from '../../api/registry.js';
import type { CertificateSigningRequest } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { signCsr, type KeyPairPem } from '../../pki/index.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER } from '../../bootstrap/index.js';
import {
  APISERVER_CLIENT_SIGNER,
  isApiserverClientRequest,
  isNodeClientRequest,
  isNodeServingRequest,
  viewCsr,
  type CsrView,
} from './csr.js';

const CSRS = RESOURCES.certificatesigningrequests;
/** Kubernetes' floor for spec.expirationSeconds. */
const MIN_EXPIRATION_SECONDS = 600;

/** The signers this controller serves, and the requests each accepts. */
const FITS: Readonly<Record<string, (csr: CsrView) => boolean>> = {
  [KUBELET_CLIENT_SIGNER]: isNodeClientRequest,
  [KUBELET_SERVING_SIGNER]: isNodeServingRequest,
  [APISERVER_CLIENT_SIGNER]: isApiserverClientRequest,
};

export interface SigningOptions {
  caCertFile: string;
  caKeyFile: string;
  /** Longest validity handed out (--cluster-signing-duration; Kubernetes' default is a year). */
  maxDurationSeconds: number;
}

export class CsrSignerController {
  readonly loop: ReconcileLoop;
  private readonly ca: KeyPairPem;
  private readonly client: RestClient;
  private readonly csrs: Informer<CertificateSigningRequest>;
  private readonly options: SigningOptions;
  private readonly now: () => Date;

  constructor(
    deps: ControllerContext & { csrs: Informer<CertificateSigningRequest>; options: SigningOptions; now?: () => Date },
  ) {
    const { client, csrs, options, log } = deps;
    this.client = client;
    this.csrs = csrs;
    this.options = options;
    this.now = deps.now ?? (() => new Date());
    this.ca = { certPem: readFileSync(options.caCertFile, 'utf8'), keyPem: readFileSync(options.caKeyFile, 'utf8') };
    this.loop = new ReconcileLoop('csrsigning', (key) => this.reconcile(key), { log });
    csrs.addHandler({
      onAdd: (c) => this.loop.enqueue(c.metadata.name ?? ''),
      onUpdate: (_o, c) => this.loop.enqueue(c.metadata.name ?? ''),
    });
  }

  async reconcile(name: string): Promise<void> {
    const obj = this.csrs.get(name);
    if (obj === undefined) return;
    const csr = viewCsr(obj);
    if (!csr.approved || csr.denied || csr.failed || csr.issued) return;
    const fits = FITS[csr.signerName];
    if (fits === undefined) return;
    const next: CertificateSigningRequest = structuredClone(obj);
    const status = next.status ?? {};
    const serving = csr.signerName === KUBELET_SERVING_SIGNER;
    if (!fits(csr)) {
      const at = rfc3339(this.now());
      status.conditions = [
        ...(status.conditions ?? []),
        {
          type: 'Failed',
          status: 'True',
          reason: 'SignerValidationFailure',
          message: `the request does not fit signer ${csr.signerName}`,
          lastUpdateTime: at,
          lastTransitionTime: at,
        },
      ];
    } else {
      const requested =
        csr.expirationSeconds === undefined
          ? this.options.maxDurationSeconds
          : Math.max(MIN_EXPIRATION_SECONDS, csr.expirationSeconds);
      const pem = await signCsr(this.ca, csr.requestPem, {
        usages: [serving ? 'server' : 'client'],
        validitySeconds: Math.min(requested, this.options.maxDurationSeconds),
      });
      status.certificate = Buffer.from(pem).toString('base64');
    }
    next.status = status;
    try {
      await this.client.updateStatus(CSRS, next);
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
