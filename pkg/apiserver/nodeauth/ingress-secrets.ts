// The TLS Secrets the Ingresses of the built-in class name: every node agent runs the ingress
// proxy and must read them to terminate TLS, and no other Secret on their account (least
// privilege: the node authorizer allows `get` of exactly these). Counted per Ingress, so a
// Secret stays readable while any Ingress still names it.

import { INGRESS_CLASS_NAME } from '../../api/ingress-class.js';
import type { Ingress } from '../../api/index.js';

/** The Secret names an Ingress of the built-in class terminates TLS with. */
export function tlsSecretNames(ingress: Readonly<Ingress>): string[] {
  if (ingress.spec?.ingressClassName !== INGRESS_CLASS_NAME) return [];
  const names = new Set<string>();
  for (const t of ingress.spec.tls ?? [])
    if (t.secretName !== undefined && t.secretName !== '') names.add(t.secretName);
  return [...names];
}

export class IngressTlsSecrets {
  /** Ingress key → the Secret keys it names. */
  private readonly byIngress = new Map<string, string[]>();
  private readonly counts = new Map<string, number>();

  setIngress(ingress: Readonly<Ingress>): void {
    const namespace = ingress.metadata.namespace ?? '';
    const key = `${namespace}/${ingress.metadata.name ?? ''}`;
    this.deleteIngress(key);
    const secrets = tlsSecretNames(ingress).map((name) => `${namespace}/${name}`);
    if (secrets.length === 0) return;
    this.byIngress.set(key, secrets);
    for (const s of secrets) this.counts.set(s, (this.counts.get(s) ?? 0) + 1);
  }

  /** Forgets an Ingress by `namespace/name`. */
  deleteIngress(key: string): void {
    const prior = this.byIngress.get(key);
    if (prior === undefined) return;
    this.byIngress.delete(key);
    for (const s of prior) {
      const n = (this.counts.get(s) ?? 0) - 1;
      if (n > 0) this.counts.set(s, n);
      else this.counts.delete(s);
    }
  }

  /** Whether some Ingress of the built-in class names this Secret for TLS. */
  named(namespace: string, name: string): boolean {
    return (this.counts.get(`${namespace}/${name}`) ?? 0) > 0;
  }
}
