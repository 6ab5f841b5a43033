// Certificate rotation (the kubelet's certificate manager): a joined agent asks for new
// client and serving certificates through CSRs when 70-90 % of the current one's lifetime
// has passed (jittered so a fleet does not renew at once), stores them atomically and
// switches to them without a restart. A failed renewal is retried with back-off until the
// old certificate runs out.

import { readFileSync } from 'node:fs';
import type { RestClient } from '../client/index.js';
import { certificateValidity } from '../pki/index.js';
import {
  clientCertificateRequest,
  requestCertificate,
  saveClientCredentials,
  saveServingCredentials,
  servingCertificateRequest,
  type NodeCredentialFiles,
} from './bootstrap.js';
import { errorMessage } from '../errors/index.js';

/** setTimeout's ceiling (about 24.8 days); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function renewalDelayMs(certPem: string, now: number, random: () => number = Math.random): number {
  const { notBefore, notAfter } = certificateValidity(certPem);
  const life = notAfter.getTime() - notBefore.getTime();
  const at = notBefore.getTime() + life * (0.7 + 0.2 * random());
  return Math.max(0, at - now);
}

export interface RotatorOptions {
  /** The node the certificates are for, and the apiserver its kubeconfig names. */
  node: { name: string; addresses: string[]; server: string };
  /** Called once a new serving certificate is stored (the server reloads it). */
  onServingRotated: () => void;
  log: (m: string) => void;
}

export class CertificateRotator {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly node: RotatorOptions['node'];
  private readonly onServingRotated: () => void;
  private readonly log: (m: string) => void;

  constructor(
    private readonly client: RestClient,
    private readonly files: NodeCredentialFiles,
    options: RotatorOptions,
  ) {
    this.node = options.node;
    this.onServingRotated = options.onServingRotated;
    this.log = options.log;
  }

  start(signal: AbortSignal): void {
    this.schedule('client', signal);
    this.schedule('serving', signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const t of this.timers) clearTimeout(t);
      },
      { once: true },
    );
  }

  private schedule(which: 'client' | 'serving', signal: AbortSignal, retryMs?: number): void {
    if (signal.aborted) return;
    const pem = readFileSync(which === 'client' ? this.files.clientCert : this.files.servingCert, 'utf8');
    const delay = retryMs ?? renewalDelayMs(pem, Date.now());
    const step = Math.min(delay, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (step < delay) return this.schedule(which, signal, delay - step);
      void this.rotate(which, signal).then(
        () => this.schedule(which, signal),
        (err: unknown) => {
          const next = Math.min(60_000, Math.max(2_000, (retryMs ?? 1_000) * 2));
          this.log(`certificate rotation (${which}) failed, retrying in ${next / 1000} s: ${errorMessage(err)}`);
          this.schedule(which, signal, next);
        },
      );
    }, step);
    timer.unref();
    this.timers.add(timer);
  }

  private async rotate(which: 'client' | 'serving', signal: AbortSignal): Promise<void> {
    const request =
      which === 'client'
        ? clientCertificateRequest(this.node.name)
        : servingCertificateRequest(this.node.name, this.node.addresses);
    const pair = await requestCertificate(this.client, request, { timeoutMs: 5 * 60_000, signal });
    if (which === 'client') {
      saveClientCredentials(this.files, pair, {
        server: this.node.server,
        nodeName: this.node.name,
        caPem: readFileSync(this.files.caCert, 'utf8'),
      });
      this.client.setClientCertificate(pair.certPem, pair.keyPem);
    } else {
      saveServingCredentials(this.files, pair);
      this.onServingRotated();
    }
    this.log(
      `certificate rotation: new ${which} certificate valid until ${certificateValidity(pair.certPem).notAfter.toISOString()} (${pair.csrName})`,
    );
  }
}
