import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLeaderElected, type Campaigner } from './leader-elected.js';
import { createLogger } from './log.js';

/** An elector the test drives: every campaign wins; a term lasts until lose() is called. */
class FakeElector implements Campaigner {
  readonly config = { identity: 'me', retryPeriodMs: 1 };
  campaigns = 0;
  private loseTerm: (() => void) | undefined;

  async acquire(signal: AbortSignal): Promise<boolean> {
    this.campaigns++;
    return !signal.aborted;
  }

  renewUntilLost(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.loseTerm = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  lose(): void {
    this.loseTerm?.();
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(check(), 'condition reached');
}

test('losing the lease aborts the term, waits for its loops to stop, then leads a new term; abort ends it all', async () => {
  const elector = new FakeElector();
  const shutdown = new AbortController();
  const terms: AbortSignal[] = [];
  const events: string[] = [];
  const done = runLeaderElected(elector, shutdown.signal, {
    log: createLogger({ write: () => undefined }),
    lead: async (term) => {
      const n = terms.push(term);
      events.push(`start ${n}`);
      await new Promise<void>((resolve) => term.addEventListener('abort', () => resolve(), { once: true }));
      await new Promise((r) => setTimeout(r, 5)); // stopping takes a moment
      events.push(`stopped ${n}`);
    },
  });
  await until(() => terms.length === 1);
  elector.lose();
  await until(() => terms.length === 2);
  assert.equal(terms[0]?.aborted, true, 'the first term was aborted');
  assert.equal(terms[1]?.aborted, false, 'the new term runs');
  assert.deepEqual(events, ['start 1', 'stopped 1', 'start 2'], 'the old loops stopped before the new term began');
  shutdown.abort();
  await done;
  assert.equal(terms[1]?.aborted, true);
  assert.deepEqual(events.slice(-1), ['stopped 2']);
  assert.equal(elector.campaigns, 2);
});

test('loops that fail on their own end the term and the elector campaigns again', async () => {
  const elector = new FakeElector();
  const shutdown = new AbortController();
  const logs: string[] = [];
  let runs = 0;
  const done = runLeaderElected(elector, shutdown.signal, {
    log: createLogger({ write: (line) => void logs.push(line) }),
    lead: async () => {
      runs++;
      if (runs === 1) throw new Error('informer exploded');
      await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  });
  await until(() => runs === 2);
  assert.ok(logs.some((l) => /loops failed: informer exploded/.test(l)));
  shutdown.abort();
  await done;
});
