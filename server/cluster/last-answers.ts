/**
 * Each stream's latest answers on the bus (issue #13), so that whichever inference node answers a
 * hop knows what the hop before it answered — the "from" of an answer-change — even when the
 * hops of one stream are spread over several nodes, or a node takes a stream over after another
 * died. One key per stream in a JetStream key-value bucket `tutti-answers`: the window end of the
 * hop recorded and each question's answer. A hop is recorded only over an older one (compare and
 * set on the key's revision), so a late or repeated hop never overwrites a newer one.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const ANSWERS_BUCKET = 'tutti-answers';

export interface StreamAnswers {
  /** Window end (stream seconds) of the hop these answers are from. */
  readonly end: number;
  /** Answer per question id. */
  readonly answers: Readonly<Record<string, string>>;
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

  async read(stream: string): Promise<StreamAnswers | undefined> {
    return (await this.entry(stream)).value;
  }

  /** Records a hop's answers unless a later (or the same) hop's are there already. */
  async record(stream: string, latest: StreamAnswers): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { value, revision } = await this.entry(stream);
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

  private async entry(stream: string): Promise<{ value?: StreamAnswers; revision: number }> {
    const entry = await this.kv.get(stream);
    if (!entry || entry.operation !== 'PUT') return { revision: entry?.revision ?? 0 };
    try {
      return { value: JSON.parse(entry.string()) as StreamAnswers, revision: entry.revision };
    } catch {
      return { revision: entry.revision };
    }
  }
}
