// The etcd3 client as Coxswain uses it: TLS from PEM buffers, and etcd3's own retry and
// circuit-breaker policies replaced by no-ops (our retries are bounded, with back-off, and
// never hide a failed commit: retry.ts).

import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';

export interface EtcdTls {
  /** PEM of the CA that signed etcd's serving certificate. */
  ca: Buffer;
  /** Client certificate and key (etcd's --client-cert-auth). */
  cert?: Buffer;
  key?: Buffer;
}

export function etcdClient(endpoints: string[], tls: EtcdTls | undefined): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    ...(tls === undefined
      ? {}
      : {
          credentials: {
            rootCertificate: tls.ca,
            ...(tls.key === undefined ? {} : { privateKey: tls.key }),
            ...(tls.cert === undefined ? {} : { certChain: tls.cert }),
          },
        }),
    faultHandling: { host: () => noop, global: noop },
    // A connection that went silent (a cut link) breaks its watch streams, which resume.
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
  });
}
