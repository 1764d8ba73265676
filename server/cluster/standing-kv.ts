/**
 * What every stream stands at — its standing questions and alert rules — in a JetStream key-value
 * bucket, so every role of a cluster sees the same and it survives restarts of any of them and
 * of nats-server (file storage). Each role keeps the bucket's current values in memory, watched,
 * so reading is synchronous (as the single-process monitor reads its SQLite log) and a change
 * made through any gateway reaches every role within a round trip.
 * Keys: `questions.<stream>` and `rules.<stream>`; values: the wire's `questions` / `rules`
 * messages, validated when read.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { questionsMessageSchema, type QuestionsMessage } from '../../shared/protocol/messages.js';
import { rulesMessageSchema, type RulesMessage } from '../../shared/protocol/rules.js';
import { watchBucket } from './watch-bucket.js';

export const STANDING_BUCKET = 'tutti-standing';

type Standing = { questions: QuestionsMessage; rules: RulesMessage };
type Kind = keyof Standing;
const SCHEMAS = { questions: questionsMessageSchema, rules: rulesMessageSchema } as const;

export class StandingKv {
  private readonly values = new Map<string, { revision: number; message?: Standing[Kind] }>();
  private readonly listeners = new Set<(message: Standing[Kind]) => void>();
  private stopWatching?: () => void;

  private constructor(
    private readonly kv: KV,
    private readonly log: (line: string) => void,
  ) {}

  /** Opens (creating if need be) the bucket and loads what it holds. */
  static async open(
    connection: NatsConnection,
    log: (line: string) => void,
    bucket = STANDING_BUCKET,
  ): Promise<StandingKv> {
    const kv = await new Kvm(connection).create(bucket, { history: 1, storage: 'file' } as const);
    const store = new StandingKv(kv, log);
    store.stopWatching = await watchBucket(kv, (entry, live) => store.take(entry, live));
    return store;
  }

  latest<T extends Kind>(stream: string, kind: T): Standing[T] | undefined {
    return this.values.get(`${kind}.${stream}`)?.message as Standing[T] | undefined;
  }

  /** The streams the bucket holds questions or rules for. */
  streams(): string[] {
    const streams = new Set<string>();
    for (const [key, value] of this.values)
      if (value.message) streams.add(key.slice(key.indexOf('.') + 1));
    return [...streams];
  }

  /**
   * Stores a stream's questions or rules; resolves once the bucket has them. Read back at once
   * (the revision it replaces kept until the bucket answers), so a second change made before
   * then starts from the first.
   */
  async save(message: Standing[Kind]): Promise<void> {
    const key = `${message.type}.${message.stream}`;
    this.values.set(key, { revision: this.values.get(key)?.revision ?? 0, message });
    const revision = await this.kv.put(key, JSON.stringify(message));
    const held = this.values.get(key)!;
    if (held.message === message && held.revision < revision) held.revision = revision;
  }

  /** Called with every change another role (or this one) makes. */
  onChange(listener: (message: Standing[Kind]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.stopWatching?.();
  }

  private take(entry: KvEntry, notify: boolean): void {
    const known = this.values.get(entry.key);
    if (known && known.revision >= entry.revision) return;
    const kind = entry.key.slice(0, entry.key.indexOf('.')) as Kind;
    if (entry.operation !== 'PUT' || !(kind in SCHEMAS)) {
      this.values.set(entry.key, { revision: entry.revision });
      return;
    }
    const parsed = SCHEMAS[kind].safeParse(JSON.parse(entry.string()));
    if (!parsed.success) {
      this.log(`standing store: ${entry.key} is not a valid ${kind} message; ignored`);
      return;
    }
    this.values.set(entry.key, { revision: entry.revision, message: parsed.data });
    if (notify) for (const listener of this.listeners) listener(parsed.data);
  }
}
