/**
 * Segments waiting to be answered, as a JetStream work queue: ingest publishes each one-second
 * segment of a stream (`tutti.segments.<stream>`), and every inference node pulls from one
 * shared durable consumer, one at a time, so a faster node simply asks more often. A segment a
 * node takes and never acknowledges (the node died) goes to another after `ackWaitMs`; a node
 * still working on it says so every half ack wait, up to `hungAfterMs` (then it counts as hung
 * and the segment goes to another), so a short ack wait — a quick fail-over — does not take work
 * from a node that is merely slow.
 * Bounded twice: at most `maxPerStream` wait per stream (JetStream drops the oldest; the indices
 * then jump, which is how a node knows to report those hops as skipped), and a segment
 * older than `staleAfterMs` when it is taken is dropped and reported — live answers about the
 * past are worth less than answers about now, and a backlog must never grow without end.
 */
import {
  AckPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { ensureConsumer, ensureStream } from './jetstream-setup.js';

export const SEGMENTS_STREAM = 'TUTTI_SEGMENTS';
export const INFERENCE_CONSUMER = 'inference';
const SUBJECT_ROOT = 'tutti.segments';

export interface SegmentQueueLimits {
  readonly maxPerStream: number;
  readonly ackWaitMs: number;
  /** Deliveries before a segment that keeps failing is given up (and reported by the node). */
  readonly maxDeliveries: number;
}

export const DEFAULT_QUEUE_LIMITS: SegmentQueueLimits = {
  maxPerStream: 30,
  ackWaitMs: 1000,
  maxDeliveries: 3,
};

export interface QueuedSegment {
  readonly stream: string;
  readonly index: number;
  /** Wall-clock ms when ingest published it. */
  readonly producedAt: number;
  readonly payload: Uint8Array;
  /** 1 on its first delivery; more after a node failed to finish it. */
  readonly delivery: number;
}

export async function ensureSegmentQueue(
  connection: NatsConnection,
  limits: SegmentQueueLimits = DEFAULT_QUEUE_LIMITS,
): Promise<void> {
  const manager = await jetstreamManager(connection);
  await ensureStream(manager, {
    name: SEGMENTS_STREAM,
    subjects: [`${SUBJECT_ROOT}.>`],
    retention: RetentionPolicy.Workqueue,
    max_msgs_per_subject: limits.maxPerStream,
    discard: DiscardPolicy.Old,
    duplicate_window: 60 * 1e9,
    storage: StorageType.File,
  });
  await ensureConsumer(manager, SEGMENTS_STREAM, {
    durable_name: INFERENCE_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: limits.ackWaitMs * 1e6, // nanoseconds
    max_deliver: limits.maxDeliveries,
  });
}

/** Queues one segment; a repeat of the same stream and index is dropped by JetStream. */
export async function publishSegment(
  connection: NatsConnection,
  segment: Omit<QueuedSegment, 'delivery' | 'producedAt'> & { producedAt?: number },
): Promise<void> {
  const h = headers();
  h.set('Tutti-Stream', segment.stream);
  h.set('Tutti-Index', String(segment.index));
  h.set('Tutti-Produced-At', String(segment.producedAt ?? Date.now()));
  await jetstream(connection).publish(`${SUBJECT_ROOT}.${segment.stream}`, segment.payload, {
    headers: h,
    msgID: `${segment.stream}/${segment.index}`,
  });
}

function segmentOf(m: JsMsg): QueuedSegment {
  return {
    stream: m.headers?.get('Tutti-Stream') ?? '',
    index: Number(m.headers?.get('Tutti-Index')),
    producedAt: Number(m.headers?.get('Tutti-Produced-At')),
    payload: m.data,
    delivery: m.info.deliveryCount,
  };
}

export interface SegmentWorker {
  stop(): Promise<void>;
}

/**
 * Takes segments, up to `inFlight` at once (default 1), and hands each to `answer`; acknowledged
 * when it resolves, handed back (to any node) when it throws. Stale ones are acknowledged
 * unanswered and given to `stale`. Several in flight let one node's inference workers batch
 * segments of different streams into one encoder call (a GPU wants that); the hops of one stream
 * may then run side by side, as they do on two nodes (the window waits for its segments, and
 * LastAnswers keeps the newest hop).
 */
export async function workOnSegments(
  connection: NatsConnection,
  answer: (segment: QueuedSegment) => Promise<void>,
  options: {
    staleAfterMs: number;
    stale: (segment: QueuedSegment, ageMs: number) => void;
    /** How long a node may keep a segment by saying it is still working on it (default 10 s). */
    hungAfterMs?: number;
    /** Segments handled at once (default 1). */
    inFlight?: number;
  },
): Promise<SegmentWorker> {
  const inFlight = options.inFlight ?? 1;
  if (!Number.isInteger(inFlight) || inFlight < 1)
    throw new Error(`segments in flight must be a whole number ≥ 1, not ${inFlight}`);
  const consumer = await jetstream(connection).consumers.get(SEGMENTS_STREAM, INFERENCE_CONSUMER);
  const ackWaitMs = ((await consumer.info()).config.ack_wait ?? 30e9) / 1e6; // ns
  // Pull requests expire after 5 s (not 30): after a lost server a node asks again soon.
  const messages = await consumer.consume({ max_messages: inFlight, expires: 5000 });
  const handle = async (m: JsMsg, segment: QueuedSegment) => {
    const started = Date.now();
    const heartbeat = setInterval(() => {
      if (Date.now() - started < (options.hungAfterMs ?? 10_000)) m.working();
    }, ackWaitMs / 2);
    try {
      await answer(segment);
      m.ack();
    } catch {
      m.nak();
    } finally {
      clearInterval(heartbeat);
    }
  };
  const running = new Set<Promise<void>>();
  const done = (async () => {
    for await (const m of messages) {
      const segment = segmentOf(m);
      const age = Date.now() - segment.producedAt;
      if (age > options.staleAfterMs) {
        m.ack();
        options.stale(segment, age);
        continue;
      }
      const work = handle(m, segment).finally(() => running.delete(work));
      running.add(work);
      if (running.size >= inFlight) await Promise.race(running);
    }
    await Promise.all(running);
  })();
  return {
    stop: async () => {
      messages.stop();
      await done;
    },
  };
}
