// The etcd3 client as Coxswain uses it: TLS from PEM buffers; no global retry policy (our
// retries are bounded, with back-off, and never hide a failed commit: retry.ts), and calls
// steered away from a member that just failed while another one answers.

import { Etcd3, isRecoverableError } from 'etcd3';
import { NoopPolicy, noop, type IDefaultPolicyContext } from 'cockatiel';

export interface EtcdTls {
  /** PEM of the CA that signed etcd's serving certificate. */
  ca: Buffer;
  /** Client certificate and key (etcd's --client-cert-auth). */
  cert?: Buffer;
  key?: Buffer;
}

/**
 * How long a member that failed a call (unreachable, or silent past a deadline) is passed over.
 * etcd3 sends each call to a member drawn at random: without this, a member cut off the
 * network (its packets dropped, nothing refused) costs a third of all calls a full deadline,
 * and a few such draws in a row outlast a client's timeout.
 */
const MEMBER_SKIP_MS = 3_000;

/** A call not sent to a member because another one answers (etcd3 then tries the next). */
export class MemberSkipped extends Error {
  constructor(member: string) {
    super(`etcd member ${member} skipped: it failed a call in the last ${MEMBER_SKIP_MS} ms`);
  }
}

/** When each member last failed a call; shared by the client's per-member policies. */
class MemberHealth {
  private readonly failedAt = new Map<string, number>();
  constructor(private readonly members: readonly string[]) {}

  failed(member: string): void {
    this.failedAt.set(member, Date.now());
  }

  succeeded(member: string): void {
    this.failedAt.delete(member);
  }

  private failing(member: string, now: number): boolean {
    return now - (this.failedAt.get(member) ?? -Infinity) < MEMBER_SKIP_MS;
  }

  /**
   * A member that failed lately is passed over while another has not. When every member
   * failed (an election: none answers for a moment) each is tried as before: skipping all
   * would only fail calls faster.
   */
  skip(member: string): boolean {
    const now = Date.now();
    return this.failing(member, now) && this.members.some((m) => m !== member && !this.failing(m, now));
  }
}

/** The policy etcd3 runs every call to one member through (and tells of a broken stream). */
class PreferAnsweringMembers extends NoopPolicy {
  constructor(
    private readonly member: string,
    private readonly health: MemberHealth,
  ) {
    super();
  }

  override async execute<T>(
    fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T,
    signal?: AbortSignal,
  ): Promise<T> {
    if (this.health.skip(this.member)) throw new MemberSkipped(this.member);
    try {
      const value = await super.execute(fn, signal);
      this.health.succeeded(this.member);
      return value;
    } catch (err) {
      // Unavailable, deadline exceeded and the like say something about the member; a refused
      // compare-and-swap or a bad request does not.
      if (err instanceof Error && isRecoverableError(err)) this.health.failed(this.member);
      throw err;
    }
  }
}

export function etcdClient(endpoints: string[], tls: EtcdTls | undefined): Etcd3 {
  const health = new MemberHealth(endpoints);
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
    faultHandling: { host: (member) => new PreferAnsweringMembers(member, health), global: noop },
    // A connection that went silent (a cut link) breaks its watch streams within ~9 s, and
    // they resume on a member that answers. (etcd refuses pings more often than every 5 s.)
    grpcOptions: { 'grpc.keepalive_time_ms': 6_000, 'grpc.keepalive_timeout_ms': 3_000 },
  });
}
