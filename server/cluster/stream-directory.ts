/**
 * Which streams the cluster runs, and where (issue #13: stream configuration in JetStream KV): a
 * bucket `tutti-streams`, one key per stream, holding the ingest node that owns it and its
 * venue-file entry (source, questions, OSC, rules; validated as the venue file is), or that it is
 * a browser capture taken by a gateway. Every role holds it in memory, watched: a gateway lists
 * the streams from it, and an ingest node restarted without its venue file takes up the streams
 * it owned.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { streamSpecSchema, type StreamSpec } from '../config/venue-config.js';
import { WatchedBucket } from './watch-bucket.js';

export const STREAMS_BUCKET = 'tutti-streams';

const entrySchema = z.strictObject({
  /** The node that ingests it (TUTTI_NODE_NAME). */
  owner: z.string().min(1),
  /** Its venue-file entry; absent for a capture, whose bytes come from a browser. */
  spec: streamSpecSchema.optional(),
});
export type StreamEntry = z.infer<typeof entrySchema>;

function parseEntry(_key: string, json: unknown): StreamEntry | Error {
  const parsed = entrySchema.safeParse(json);
  return parsed.success ? parsed.data : new Error('not a valid stream entry');
}

export class StreamDirectory {
  private constructor(private readonly bucket: WatchedBucket<StreamEntry>) {}

  static async open(
    connection: NatsConnection,
    log: (line: string) => void,
    bucket = STREAMS_BUCKET,
  ): Promise<StreamDirectory> {
    return new StreamDirectory(await WatchedBucket.open(connection, bucket, parseEntry, log));
  }

  /** Every stream the cluster runs. */
  streams(): string[] {
    return this.bucket.entries().map(([id]) => id);
  }

  /** The venue entries of the streams `owner` ingests. */
  ownedBy(owner: string): StreamSpec[] {
    return this.bucket
      .entries()
      .flatMap(([, entry]) => (entry.owner === owner && entry.spec ? [entry.spec] : []));
  }

  /** Records that `owner` ingests the stream (a venue entry, or a capture's id). */
  async claim(owner: string, stream: StreamSpec | { id: string }): Promise<void> {
    await this.bucket.put(stream.id, { owner, ...('source' in stream ? { spec: stream } : {}) });
  }

  /** The stream is no longer run (a capture that ended). */
  async release(stream: string): Promise<void> {
    await this.bucket.delete(stream);
  }

  close(): void {
    this.bucket.close();
  }
}
