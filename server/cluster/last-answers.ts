/**
 * Each stream's latest answers on the bus (issue #13), so that whichever inference node answers a
 * hop knows what the hop before it answered — the "from" of an answer-change — even when the
 * hops of one stream are spread over several nodes, or a node takes a stream over after another
 * died. One key per stream in a JetStream key-value bucket `tutti-answers`: the window end of the
 * hop recorded, each question's answer, and the hop's own "before". A hop is recorded only over
 * an older one (compare and set on the key's revision), so a late or repeated hop never
 * overwrites a newer one.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const ANSWERS_BUCKET = 'tutti-answers';

export interface HopAnswers {
  /** Window end (stream seconds) of the hop these answers are from. */
  readonly end: number;
  /** Answer per question id. */
  readonly answers: Readonly<Record<string, string>>;
}

export interface StreamAnswers extends HopAnswers {
  /**
   * The answers this hop's changes were told against: a hop redelivered after it was recorded
   * (its publishing failed) tells the same changes again instead of finding none.
   */
  readonly previous?: HopAnswers;
}

/** What the bucket holds for a stream, with the revision a new record must replace. */
export interface HeldAnswers {
  readonly value?: StreamAnswers;
  readonly revision: number;
}

export class LastAnswers {
  private constructor(private readonly kv: KV) {}

  static async open(connection: NatsConnection, bucket = ANSWERS_BUCKET): Promise<LastAnswers> {
    // A stream gone for an hour has no "before" worth keeping.
    const kv = await new Kvm(connection).create(bucket, {
      history: 1,
      storage: 'file',
      ttl: 3_600_000,
    } as const);
    return new LastAnswers(kv);
  }

  /**
   * Records a hop's answers unless a later (or the same) hop's are there already; `held` is what
   * `read` gave before the hop was answered (read again only if another node wrote since).
   */
  async record(stream: string, latest: StreamAnswers, held?: HeldAnswers): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { value, revision } = attempt === 0 && held ? held : await this.read(stream);
      if (value && value.end >= latest.end) return;
      try {
        if (revision === 0) await this.kv.create(stream, JSON.stringify(latest));
        else await this.kv.update(stream, JSON.stringify(latest), revision);
        return;
      } catch {
        // Another node wrote in between: look again.
      }
    }
  }

  /** The stream's latest answers, and the key's revision to record over (0: none yet). */
  async read(stream: string): Promise<HeldAnswers> {
    const entry = await this.kv.get(stream);
    if (!entry || entry.operation !== 'PUT') return { revision: entry?.revision ?? 0 };
    try {
      return { value: JSON.parse(entry.string()) as StreamAnswers, revision: entry.revision };
    } catch {
      return { revision: entry.revision };
    }
  }
}
