/**
 * A key-value bucket held in memory by a role: what it holds now, loaded, and every change after,
 * watched. Watching starts before the read, so a change made while loading arrives by the watch;
 * entries carry revisions, so a store can keep an older read from overwriting it.
 */
import { KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';

/** Calls `take(entry, live)` for each entry held (live false) and each later change (true). */
export async function watchBucket(
  kv: KV,
  take: (entry: KvEntry, live: boolean) => void,
): Promise<() => void> {
  const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
  void (async () => {
    for await (const entry of watcher) take(entry, true);
  })();
  const keys: string[] = [];
  for await (const key of await kv.keys()) keys.push(key);
  for (const key of keys) {
    const entry = await kv.get(key);
    if (entry) take(entry, false);
  }
  return () => watcher.stop();
}
