/**
 * A JetStream key-value bucket held in memory by a role: what it holds, loaded, and every change
 * after, watched — so reading is synchronous and a change made by any role reaches every role
 * within a round trip. Values are JSON, validated by the owner's `parse` when read (an invalid
 * one is logged and skipped). Watching starts before the read, so a change made while loading
 * arrives by the watch; revisions keep an older read from overwriting a newer value.
 */
import { Kvm, KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { whileUnanswered } from './while-unanswered.js';

export class WatchedBucket<T> {
  private readonly values = new Map<string, { revision: number; value?: T }>();
  private readonly listeners = new Set<(value: T, key: string) => void>();
  private stopWatching?: () => void;

  private constructor(
    private readonly kv: KV,
    private readonly name: string,
    /** The value of `key` from its JSON, or an error saying what is wrong. */
    private readonly parse: (key: string, json: unknown) => T | Error,
    private readonly log: (line: string) => void,
  ) {}

  /** Opens (creating if need be) the bucket, file-stored, and loads what it holds. */
  static async open<T>(
    connection: NatsConnection,
    bucket: string,
    parse: (key: string, json: unknown) => T | Error,
    log: (line: string) => void,
  ): Promise<WatchedBucket<T>> {
    const kv = await new Kvm(connection).create(bucket, { history: 1, storage: 'file' } as const);
    const held = new WatchedBucket(kv, bucket, parse, log);
    const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    held.stopWatching = () => watcher.stop();
    void (async () => {
      for await (const entry of watcher) held.take(entry, true);
    })();
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry) held.take(entry, false);
    }
    return held;
  }

  get(key: string): T | undefined {
    return this.values.get(key)?.value;
  }

  /** Every key with a value, and its value. */
  entries(): Array<[string, T]> {
    return [...this.values].flatMap(([key, { value }]) =>
      value === undefined ? [] : [[key, value] as [string, T]],
    );
  }

  /**
   * Stores a value; resolves once the bucket has it. Read back at once (the revision it replaces
   * kept until the bucket answers), so a second change made before then starts from the first.
   */
  async put(key: string, value: T): Promise<void> {
    this.values.set(key, { revision: this.values.get(key)?.revision ?? 0, value });
    const revision = await whileUnanswered(() => this.kv.put(key, JSON.stringify(value)));
    const held = this.values.get(key)!;
    if (held.value === value && held.revision < revision) held.revision = revision;
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }

  /** Called with every value another role (or this one) stores, after loading. */
  onChange(listener: (value: T, key: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.stopWatching?.();
  }

  private take(entry: KvEntry, live: boolean): void {
    const known = this.values.get(entry.key);
    if (known && known.revision >= entry.revision) return;
    if (entry.operation !== 'PUT') {
      this.values.set(entry.key, { revision: entry.revision });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(entry.string());
    } catch {
      json = undefined;
    }
    const value = this.parse(entry.key, json);
    if (value instanceof Error) {
      this.log(`bucket ${this.name}: ${entry.key}: ${value.message}; ignored`);
      return;
    }
    this.values.set(entry.key, { revision: entry.revision, value });
    if (live) for (const listener of this.listeners) listener(value, entry.key);
  }
}
