// The one contract of a long-running piece (component-base's): `start(signal)` runs until
// `signal` aborts and resolves only once everything it started has stopped. Readiness is a
// separate, explicit signal (a log line, a promise), never the resolution of `start`.

export interface Runnable {
  start(signal: AbortSignal): Promise<void>;
}

/** Runs every piece on the same signal; resolves when all have stopped (rejects with the first failure, after all stopped). */
export async function runAll(pieces: readonly Runnable[], signal: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(pieces.map((p) => p.start(signal)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
