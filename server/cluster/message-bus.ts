/**
 * What streams say — answers, answer changes, alerts, status, questions, rules — on the bus:
 * published by whichever role produced it into one JetStream stream (the cluster's answer log,
 * kept `maxAgeHours` like the single monitor's SQLite retention), read by every gateway from
 * "now" with an ordered consumer that rebuilds itself after a lost connection.
 * Publishing is at least once (a retry after a lost acknowledgement may repeat); an answer carries
 * a message id (stream, question, window end), an alert one of its firing, so JetStream drops a
 * repeat within its duplicate window and a gateway sees each hop's answer once.
 */
import {
  DeliverPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStream } from './jetstream-setup.js';
import { whileUnanswered } from './while-unanswered.js';
import { serverMessageSchema, type ServerMessage } from '../../shared/protocol/messages.js';

export const MESSAGES_STREAM = 'TUTTI_MESSAGES';
export const SUBJECT_ROOT = 'tutti.messages';

/** `tutti.messages.<stream>.<type>`; messages of no one stream (errors) under `_cluster`. */
export const messageSubject = (message: ServerMessage) =>
  `${SUBJECT_ROOT}.${'stream' in message ? message.stream : '_cluster'}.${message.type}`;

/** The id JetStream deduplicates by: one answer per question and window end, one alert a firing. */
export function messageId(message: ServerMessage): string | undefined {
  if (message.type === 'answer' || message.type === 'answer-change')
    return `${message.type}/${message.stream}/${message.questionId}/${message.window.end}`;
  if (message.type === 'alert') return `alert/${message.stream}/${message.ruleId}/${message.at}`;
  return undefined;
}

/** Creates the log stream, or brings its retention up to date. */
export async function ensureMessageLog(
  connection: NatsConnection,
  maxAgeHours = 168,
): Promise<void> {
  await ensureStream(await jetstreamManager(connection), {
    name: MESSAGES_STREAM,
    subjects: [`${SUBJECT_ROOT}.>`],
    max_age: maxAgeHours * 3600 * 1e9, // nanoseconds
    duplicate_window: 120 * 1e9,
    storage: StorageType.File,
  });
}

export class MessagePublisher {
  private readonly js: JetStreamClient;

  constructor(connection: NatsConnection) {
    this.js = jetstream(connection);
  }

  /**
   * Resolves once JetStream has it (true), or it was a repeat of one it had (false); tried again
   * while JetStream does not answer (whileUnanswered): a try whose acknowledgement was lost is
   * dropped as a repeat by its message id, and the messages without one (status, questions,
   * rules) are whole states, a repeat of which changes nothing.
   */
  async publish(message: ServerMessage): Promise<boolean> {
    const id = messageId(message);
    const ack = await whileUnanswered(() =>
      this.js.publish(messageSubject(message), JSON.stringify(message), {
        ...(id && { msgID: id }),
      }),
    );
    return !ack.duplicate;
  }
}

/** Every message published from now on, of every stream, validated; stop with the result. */
export async function followMessages(
  connection: NatsConnection,
  handle: (message: ServerMessage) => void,
  log: (line: string) => void,
): Promise<{ stop: () => void }> {
  const consumer = await jetstream(connection).consumers.get(MESSAGES_STREAM, {
    deliver_policy: DeliverPolicy.New,
  });
  const messages = await consumer.consume({ expires: 5000 }); // back soon after a lost server
  void (async () => {
    for await (const m of messages) {
      const parsed = serverMessageSchema.safeParse(m.json());
      if (parsed.success) handle(parsed.data);
      else log(`bus: a message on ${m.subject} is not a valid server message; skipped`);
    }
  })();
  return { stop: () => void messages.stop() };
}
