// Long-lived streams (get -w, logs -f) that survive an apiserver restart: a session that
// breaks is opened again after a pause that doubles (0.5 s up to 8 s), at most ten times in
// a row; a session that got anywhere (opened, delivered something) starts the count afresh.
// Each retry is announced on stderr, so stdout carries only what kubectl would print.

import { ApiError, errorMessage } from '../errors/index.js';
import { CliError } from './context.js';

export interface ReconnectPolicy {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const RECONNECT: ReconnectPolicy = { attempts: 10, initialDelayMs: 500, maxDelayMs: 8000 };

/** How one session of a stream ended. */
export type SessionEnd = { kind: 'done' } | { kind: 'broken'; progressed: boolean; reason: string };

/** Errors worth another try: the server unreachable or briefly unable, not a refusal of the request. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.code >= 500 || err.code === 429 || err.code === 408;
}

/** `reason` of an error for the stderr notice. */
export function brokenBy(err: unknown, progressed: boolean): SessionEnd {
  return { kind: 'broken', progressed, reason: errorMessage(err) };
}

/**
 * Runs `session` until it is done, re-running it when it breaks (bounded by `policy`).
 * `notice` receives one line per retry; `sleep` is injectable for tests.
 */
export async function withReconnect(
  what: string,
  session: () => Promise<SessionEnd>,
  opts: { notice: (line: string) => void; policy?: ReconnectPolicy; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const policy = opts.policy ?? RECONNECT;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let failures = 0;
  for (;;) {
    const end = await session();
    if (end.kind === 'done') return;
    failures = end.progressed ? 1 : failures + 1;
    if (failures > policy.attempts)
      throw new CliError(`${what}: giving up after ${policy.attempts} attempts to reconnect: ${end.reason}`);
    const delay = Math.min(policy.initialDelayMs * 2 ** (failures - 1), policy.maxDelayMs);
    opts.notice(
      `${what} interrupted (${end.reason}); reconnecting in ${delay / 1000}s (attempt ${failures}/${policy.attempts})`,
    );
    await sleep(delay);
  }
}
