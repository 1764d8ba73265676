/** Waiting in tests: for a condition to hold, and for what a test opened to be closed after it. */
import { afterEach } from 'vitest';

/** Resolves once `check()` holds (polled every 20 ms); fails after `ms` naming `what`. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const started = Date.now(); !check(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
}

/** A list a test pushes closers onto; each is awaited, in order, after every test of the file. */
export function closedAfterEach(): Array<() => unknown> {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  return closers;
}
