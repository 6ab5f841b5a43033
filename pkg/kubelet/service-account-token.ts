// Projected ServiceAccount tokens (the `serviceAccountToken` source of a projected volume): the
// agent asks the TokenRequest API for a token bound to the pod, so it stops working once the
// pod is gone, and asks again when 80 % of the requested lifetime has passed (or 24 hours),
// as the kubelet's token manager does.

import { RESOURCES } from '../api/registry.js';
import type { Pod } from '../api/types/index.js';
import { isObject } from '../api/meta.js';
import type { Clock } from './backoff.js';
import type { PodApi } from './pod-api.js';
import { VolumeError } from './volumes.js';
import { errorMessage } from '../errors/index.js';

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface TokenSource {
  audience?: string;
  expirationSeconds?: number;
}

interface Held {
  token: string;
  refreshAtMs: number;
}

export class PodTokens {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly api: Pick<PodApi, 'createSubresource'>,
    private readonly clock: Clock,
  ) {}

  /** A token for the pod's ServiceAccount, bound to the pod; a cached one until it is due. */
  async token(pod: Pod, source: TokenSource): Promise<Held> {
    const uid = pod.metadata.uid ?? '';
    const seconds = source.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    const key = `${uid}/${source.audience ?? ''}/${seconds}`;
    const now = this.clock.now();
    const cached = this.held.get(key);
    if (cached !== undefined && now < cached.refreshAtMs) return cached;
    const account = pod.spec?.serviceAccountName ?? 'default';
    let reply: unknown;
    try {
      reply = await this.api.createSubresource(RESOURCES.serviceaccounts, account, {
        subresource: 'token',
        namespace: pod.metadata.namespace,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: source.audience === undefined || source.audience === '' ? [] : [source.audience],
            expirationSeconds: seconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid },
          },
        },
      });
    } catch (err) {
      // A token that is still valid serves while a refresh fails.
      if (cached !== undefined) return cached;
      throw new VolumeError(`failed to fetch token: ${errorMessage(err)}`);
    }
    const status = isObject(reply) && isObject(reply['status']) ? reply['status'] : {};
    const token = status['token'];
    if (typeof token !== 'string' || token === '') throw new VolumeError('failed to fetch token: the reply has none');
    const held = { token, refreshAtMs: now + Math.min(seconds * 1000 * 0.8, MAX_AGE_MS) };
    this.held.set(key, held);
    return held;
  }

  forget(uid: string): void {
    for (const key of [...this.held.keys()]) if (key.startsWith(`${uid}/`)) this.held.delete(key);
  }
}
