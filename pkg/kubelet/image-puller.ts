// Image pulls for pod sync: the pull policy, the Pulling/Pulled events, and a back-off per
// pod container after a failed pull (ErrImagePull, then ImagePullBackOff while it holds).

import type { Container, Pod } from '../api/types/index.js';
import type { EventSink } from '../client/index.js';
import { Backoff, type Clock } from './backoff.js';
import type { Waiting } from './pod-status.js';
import { ImagePullError, type ContainerRuntime } from './runtime/index.js';

/** Why the image is not there yet and when to try again. */
export interface PullHold {
  waiting: Waiting;
  retryAfterMs: number;
}

export class ImagePuller {
  private readonly backoff = new Backoff();
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly events: EventSink,
    private readonly clock: Clock,
  ) {}

  /** Makes a container's image available (by its pull policy); undefined when it is. */
  async pull(pod: Pod, container: Container): Promise<PullHold | undefined> {
    const image = container.image ?? '';
    const pullPolicy = container.imagePullPolicy || 'IfNotPresent';
    const key = `${pod.metadata.uid ?? ''}/${container.name}/image`;
    const now = this.clock.now();
    const failedAt = this.failedAt.get(key);
    const remaining = failedAt === undefined ? 0 : this.backoff.remaining(key, failedAt, now);
    if (remaining > 0) {
      this.events.normal(pod, 'BackOff', `Back-off pulling image "${image}"`);
      return {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
        retryAfterMs: remaining,
      };
    }
    try {
      const present = await this.runtime.imagePresent(image);
      if (!present || pullPolicy === 'Always') this.events.normal(pod, 'Pulling', `Pulling image "${image}"`);
      await this.runtime.ensureImage(image, pullPolicy);
      if (!present || pullPolicy === 'Always')
        this.events.normal(pod, 'Pulled', `Successfully pulled image "${image}"`);
      else this.events.normal(pod, 'Pulled', `Container image "${image}" already present on machine`);
      this.failedAt.delete(key);
      return undefined;
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.failedAt.set(key, now);
      this.backoff.restarted(key, 0);
      this.events.warning(pod, 'Failed', err.message);
      this.events.warning(pod, 'Failed', 'Error: ErrImagePull');
      return { waiting: { reason: 'ErrImagePull', message: err.message }, retryAfterMs: this.backoff.delay(key) };
    }
  }

  /** Forgets a pod's pull failures (it is gone). */
  forget(podUid: string): void {
    this.backoff.forget(`${podUid}/`);
    for (const k of [...this.failedAt.keys()]) if (k.startsWith(`${podUid}/`)) this.failedAt.delete(k);
  }
}
