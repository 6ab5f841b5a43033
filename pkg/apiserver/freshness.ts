// Reads at a resourceVersion the cache has not reached yet (Kubernetes' cacher
// waitUntilFreshAndBlock): wait a little for it, then answer 504 "Too large resource
// version" so the client retries instead of hanging.

import { ApiError } from '../errors/index.js';
import type { Store, WatchHandle } from '../storage/store.js';

/** How long a read waits for a future resourceVersion (Kubernetes: 3 s). */
export const FRESHNESS_WAIT_MS = 3000;

function tooLarge(requested: number, current: number): ApiError {
  return new ApiError('Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    details: {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    },
  });
}

/** Resolves once the store has reached `revision`; rejects with 504 after `timeoutMs`. */
export async function awaitRevision(store: Store, revision: number, timeoutMs = FRESHNESS_WAIT_MS): Promise<void> {
  const current = await store.currentRevision();
  if (revision <= current) return;
  await new Promise<void>((resolve, reject) => {
    let latest = current;
    let settled = false;
    // Set once store.watch returns; settle() may run before that (a synchronous replay).
    const watch: { handle?: WatchHandle } = {};
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watch.handle?.stop();
      if (err === undefined) resolve();
      else reject(err);
    };
    const timer = setTimeout(() => settle(tooLarge(revision, latest)), timeoutMs);
    // Every write is an event under '/', so following it sees each new revision.
    const handle = store.watch('/', current, {
      onEvent: (ev) => {
        latest = ev.revision;
        if (ev.revision >= revision) settle();
      },
      onError: (err) => settle(err),
    });
    watch.handle = handle;
    // The watch may have replayed up to the revision synchronously, before `handle` existed.
    if (settled) handle.stop();
  });
}
