/**
 * An ingest node's work on one stream (issue #13): its source, kept alive as the single monitor
 * keeps it, cut into one-second segments and published to the segment queue as records
 * (segment-record.ts). Each segment's index and stream time carry on from where the stream was
 * (a position kept in JetStream KV), so a restarted ingest node — or another one taking the
 * stream over — never reuses an index: answers are deduplicated on the wire by stream time, and
 * a reused one would be dropped as a repeat.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { concatMap, defer, map, type Observable } from 'rxjs';
import type { StreamConfig } from '../pipeline/live-stream.js';
import { toSegments, type Segment } from '../segments/to-segments.js';
import { superviseSource } from '../sources/supervise-source.js';
import { publishSegment } from './segment-queue.js';
import { encodeSegment } from './segment-record.js';

export const INGEST_BUCKET = 'tutti-ingest';

/** Where each stream's next segment starts: its index (= stream time in seconds). */
export class IngestPositions {
  private constructor(private readonly kv: KV) {}

  static async open(connection: NatsConnection, bucket = INGEST_BUCKET): Promise<IngestPositions> {
    return new IngestPositions(
      await new Kvm(connection).create(bucket, { history: 1, storage: 'file' } as const),
    );
  }

  async next(stream: string): Promise<number> {
    const entry = await this.kv.get(stream);
    const value = entry?.operation === 'PUT' ? Number(entry.string()) : 0;
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  }

  async advance(stream: string, next: number): Promise<void> {
    await this.kv.put(stream, String(next));
  }
}

export interface IngestOptions {
  readonly stallSeconds?: number;
  readonly log: (line: string) => void;
}

/**
 * Runs one stream's source into the queue; emits each queued segment's index. A segment the bus
 * does not take (it is away) is logged and lost, and the stream goes on: the hops it ended are
 * missing on the wire, as a skipped segment's are in the single monitor.
 */
export function ingestStream(
  connection: NatsConnection,
  positions: IngestPositions,
  config: StreamConfig,
  options: IngestOptions,
): Observable<number> {
  return defer(async () => positions.next(config.id)).pipe(
    concatMap((first) =>
      defer(() => config.source()).pipe(
        superviseSource({
          retry: config.retry !== false,
          stallSeconds: options.stallSeconds ?? 10,
          healthySeconds: 60,
          maxWaitSeconds: 30,
          onRetry: (error, wait) =>
            options.log(
              `ingest ${config.id}: ${error.message.split('\n')[0]}; retrying in ${wait} s`,
            ),
        }),
        toSegments(),
        map((segment): Segment => ({
          ...segment,
          index: segment.index + first,
          start: segment.start + first,
        })),
      ),
    ),
    concatMap(async (segment) => {
      try {
        await publishSegment(connection, {
          stream: config.id,
          index: segment.index,
          payload: await encodeSegment(segment),
        });
        await positions.advance(config.id, segment.index + 1);
        return [segment.index];
      } catch (error) {
        // The bus is away (restarting, unreachable): this second is lost, the stream goes on.
        options.log(
          `ingest ${config.id}: segment ${segment.index} not queued: ${(error as Error).message}`,
        );
        return [];
      }
    }),
    concatMap((published) => published),
  );
}
