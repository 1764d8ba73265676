/** Source supervision: a stalled source is ended and retried; backoff starts over once healthy. */
import type { Subscription } from 'rxjs';
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SourceStalledError, superviseSource } from '../server/sources/supervise-source.js';

/** A source that, on each subscription, emits every 10 ms for `deliverMs`, then fails or hangs. */
function flakySource(plan: Array<{ deliverMs: number; then: 'fail' | 'hang' }>) {
  let attempt = 0;
  const subscriptions: Array<{ attempt: number; unsubscribed: boolean }> = [];
  const source = new Observable<number>((subscriber) => {
    const { deliverMs, then } = plan[Math.min(attempt, plan.length - 1)]!;
    const record = { attempt: attempt++, unsubscribed: false };
    subscriptions.push(record);
    const started = performance.now();
    const tick = setInterval(() => {
      if (performance.now() - started < deliverMs) return subscriber.next(record.attempt);
      clearInterval(tick);
      if (then === 'fail') subscriber.error(new Error(`attempt ${record.attempt} failed`));
    }, 10);
    return () => {
      clearInterval(tick);
      record.unsubscribed = true;
    };
  });
  return { source, subscriptions };
}

const waitUntil = async (condition: () => boolean, ms = 10_000) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('source supervision', () => {
  it('ends a source that stops delivering and starts it again', async () => {
    const { source, subscriptions } = flakySource([
      { deliverMs: 50, then: 'hang' },
      { deliverMs: 60_000, then: 'hang' },
    ]);
    const retries: Error[] = [];
    const subscription: Subscription = source
      .pipe(
        superviseSource({
          retry: true,
          stallSeconds: 0.2,
          healthySeconds: 60,
          maxWaitSeconds: 30,
          onRetry: (error) => retries.push(error),
        }),
      )
      .subscribe();
    await waitUntil(() => subscriptions.length === 2);
    subscription.unsubscribe();
    expect(retries[0]).toBeInstanceOf(SourceStalledError);
    expect(retries[0]?.message).toMatch(/no media for 0.2 s/);
    expect(subscriptions[0]?.unsubscribed).toBe(true); // the hung one was ended
  });

  it('doubles the wait after each quick failure, and starts over after a healthy run', async () => {
    const quick = { deliverMs: 20, then: 'fail' as const };
    const { source } = flakySource([quick, quick, quick, { deliverMs: 400, then: 'fail' }, quick]);
    const waits: number[] = [];
    const subscription = source
      .pipe(
        superviseSource({
          retry: true,
          stallSeconds: 5,
          healthySeconds: 0.3,
          maxWaitSeconds: 30,
          onRetry: (_error, wait) => waits.push(wait),
        }),
      )
      .subscribe();
    await waitUntil(() => waits.length === 4, 20_000);
    subscription.unsubscribe();
    // 1, 2, 4 s after quick failures; after the attempt that delivered 0.4 s (> 0.3 s healthy), 1 s.
    expect(waits).toEqual([1, 2, 4, 1]);
  }, 30_000);

  it('does not retry a one-shot source: its failure is final', async () => {
    const { source } = flakySource([{ deliverMs: 20, then: 'fail' }]);
    const error = await new Promise<Error>((resolve) =>
      source
        .pipe(
          superviseSource({
            retry: false,
            stallSeconds: 5,
            healthySeconds: 1,
            maxWaitSeconds: 30,
            onRetry: () => undefined,
          }),
        )
        .subscribe({ error: resolve }),
    );
    expect(error.message).toBe('attempt 0 failed');
  });
});
