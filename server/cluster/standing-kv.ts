/**
 * What every stream stands at — its standing questions and alert rules — in a JetStream key-value
 * bucket, so every role of a cluster sees the same and it survives restarts of any of them and
 * of nats-server (file storage). Each role holds it in memory, watched (watch-bucket.ts), so
 * reading is synchronous (as the single-process monitor reads its SQLite log) and a change made
 * through any gateway reaches every role within a round trip.
 * Keys: `questions.<stream>` and `rules.<stream>`; values: the wire's `questions` / `rules`
 * messages, validated when read.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { questionsMessageSchema, type QuestionsMessage } from '../../shared/protocol/messages.js';
import { rulesMessageSchema, type RulesMessage } from '../../shared/protocol/rules.js';
import { WatchedBucket } from './watch-bucket.js';

export const STANDING_BUCKET = 'tutti-standing';

type Standing = { questions: QuestionsMessage; rules: RulesMessage };
type Kind = keyof Standing;
const SCHEMAS = { questions: questionsMessageSchema, rules: rulesMessageSchema } as const;

function parseStanding(key: string, json: unknown): Standing[Kind] | Error {
  const kind = key.slice(0, key.indexOf('.'));
  if (!(kind in SCHEMAS)) return new Error('not a questions or rules key');
  const parsed = SCHEMAS[kind as Kind].safeParse(json);
  return parsed.success ? parsed.data : new Error(`not a valid ${kind} message`);
}

export class StandingKv {
  private constructor(private readonly bucket: WatchedBucket<Standing[Kind]>) {}

  /** Opens (creating if need be) the bucket and loads what it holds. */
  static async open(
    connection: NatsConnection,
    log: (line: string) => void,
    bucket = STANDING_BUCKET,
  ): Promise<StandingKv> {
    return new StandingKv(await WatchedBucket.open(connection, bucket, parseStanding, log));
  }

  latest<T extends Kind>(stream: string, kind: T): Standing[T] | undefined {
    return this.bucket.get(`${kind}.${stream}`) as Standing[T] | undefined;
  }

  /** The streams the bucket holds questions or rules for. */
  streams(): string[] {
    return [...new Set(this.bucket.entries().map(([, message]) => message.stream))];
  }

  /** Stores a stream's questions or rules; read back at once, resolves once the bucket has them. */
  async save(message: Standing[Kind]): Promise<void> {
    await this.bucket.put(`${message.type}.${message.stream}`, message);
  }

  /** Called with every change another role (or this one) makes. */
  onChange(listener: (message: Standing[Kind]) => void): () => void {
    return this.bucket.onChange((message) => listener(message));
  }

  close(): void {
    this.bucket.close();
  }
}
