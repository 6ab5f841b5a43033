// The etcd3 client as Coxswain uses it: TLS from PEM buffers; no global retry policy (our
// retries are bounded, with back-off, and never hide a failed commit: retry.ts), and a
// circuit breaker per member so that calls avoid a member that just failed.

import { Etcd3, isRecoverableError } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, noop } from 'cockatiel';

export interface EtcdTls {
  /** PEM of the CA that signed etcd's serving certificate. */
  ca: Buffer;
  /** Client certificate and key (etcd's --client-cert-auth). */
  cert?: Buffer;
  key?: Buffer;
}

/**
 * How long a member that failed a call (unreachable, or silent past a deadline) is skipped
 * before one call may try it again. etcd3 sends each call to a member drawn at random: without
 * this, a member cut off the network (its packets dropped, nothing refused) costs a third of
 * all calls a full deadline, and a few such draws in a row outlast the client's timeout.
 */
const MEMBER_SKIP_MS = 3_000;

/** A member is skipped after one failed call; a half-open breaker lets one call try it. */
function memberBreaker(): ReturnType<typeof circuitBreaker> {
  return circuitBreaker(
    handleWhen((err) => isRecoverableError(err)),
    { halfOpenAfter: MEMBER_SKIP_MS, breaker: new ConsecutiveBreaker(1) },
  );
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
    // With a single endpoint there is nowhere else to go: the breaker would only fail calls fast.
    faultHandling: { host: () => (endpoints.length > 1 ? memberBreaker() : noop), global: noop },
    // A connection that went silent (a cut link) breaks its watch streams, which resume.
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
  });
}
