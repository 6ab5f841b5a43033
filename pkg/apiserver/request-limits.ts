// Load shedding, so no client can exhaust the apiserver: Kubernetes' max-in-flight filter
// (--max-requests-inflight for reads, --max-mutating-requests-inflight for writes; long-
// running requests — watches, logs, exec, attach, port-forward — are not counted, and
// system:masters is never refused) plus a cap on concurrent watches per user and in
// total, since watches are exactly what the in-flight limits leave out. Beyond a limit
// the answer is 429 TooManyRequests with Retry-After, and clients back off and retry.

import { ApiError } from '../errors/index.js';

export interface RequestLimitsConfig {
  /** Concurrent non-mutating requests (Kubernetes default 400; 0 = unlimited). */
  maxRequestsInflight: number;
  /** Concurrent mutating requests (Kubernetes default 200; 0 = unlimited). */
  maxMutatingRequestsInflight: number;
  /** Concurrent watches of one user (0 = unlimited). */
  maxWatchesPerUser: number;
  /** Concurrent watches in total (0 = unlimited). */
  maxWatches: number;
}

/** The group whose members are never refused (Kubernetes' system:masters). */
const PRIVILEGED_GROUP = 'system:masters';
const RETRY_AFTER_SECONDS = 1;

function tooMany(message: string): ApiError {
  return new ApiError('TooManyRequests', message, { details: { retryAfterSeconds: RETRY_AFTER_SECONDS } });
}

/** Releases a slot; calling it more than once is harmless. */
export type Release = () => void;

function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LONG_RUNNING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/** Whether a resource request is long-running (Kubernetes' BasicLongRunningRequestCheck): watches and streams. */
export function isLongRunning(info: { verb: string; subresource: string | undefined }): boolean {
  return (
    info.verb === 'watch' ||
    info.verb === 'proxy' ||
    (info.subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(info.subresource))
  );
}

export class RequestLimits {
  private readonly config: RequestLimitsConfig;
  private readonly inflight = { readonly: 0, mutating: 0 };
  private watches = 0;
  private readonly watchesByUser = new Map<string, number>();

  constructor(config: RequestLimitsConfig) {
    this.config = config;
  }

  /** A slot for a short request, or 429. Long-running requests must not come here. */
  admitRequest(method: string, groups: readonly string[]): Release {
    if (groups.includes(PRIVILEGED_GROUP)) return () => undefined;
    const kind = MUTATING_METHODS.has(method) ? 'mutating' : 'readonly';
    const limit = kind === 'mutating' ? this.config.maxMutatingRequestsInflight : this.config.maxRequestsInflight;
    if (limit > 0 && this.inflight[kind] >= limit) throw tooMany('Too many requests, please try again later.');
    this.inflight[kind]++;
    return once(() => {
      this.inflight[kind]--;
    });
  }

  /** A slot for one watch of `user`, or 429. */
  admitWatch(user: string, groups: readonly string[]): Release {
    if (groups.includes(PRIVILEGED_GROUP)) return () => undefined;
    const mine = this.watchesByUser.get(user) ?? 0;
    if (this.config.maxWatchesPerUser > 0 && mine >= this.config.maxWatchesPerUser) {
      throw tooMany(
        `too many concurrent watches for user "${user}" (limit ${this.config.maxWatchesPerUser}); close some and try again later`,
      );
    }
    if (this.config.maxWatches > 0 && this.watches >= this.config.maxWatches) {
      throw tooMany(`too many concurrent watches on this server (limit ${this.config.maxWatches}); try again later`);
    }
    this.watches++;
    this.watchesByUser.set(user, mine + 1);
    return once(() => {
      this.watches--;
      const n = (this.watchesByUser.get(user) ?? 1) - 1;
      if (n <= 0) this.watchesByUser.delete(user);
      else this.watchesByUser.set(user, n);
    });
  }
}
