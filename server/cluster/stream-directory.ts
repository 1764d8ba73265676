/**
 * Which streams the cluster runs, and where (issue #13: stream configuration in JetStream KV): a
 * bucket `tutti-streams`, one key per stream, holding the ingest node that owns it and its
 * venue-file entry (source, questions, OSC, rules; validated as the venue file is), or that it is
 * a browser capture taken by a gateway. Every role holds it in memory, watched: a gateway lists
 * the streams from it, and an ingest node restarted without its venue file takes up the streams
 * it owned.
 */
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { streamSpecSchema, type StreamSpec } from '../config/venue-config.js';
import { watchBucket } from './watch-bucket.js';

export const STREAMS_BUCKET = 'tutti-streams';

const entrySchema = z.strictObject({
  /** The node that ingests it (TUTTI_NODE_NAME). */
  owner: z.string().min(1),
  /** Its venue-file entry; absent for a capture, whose bytes come from a browser. */
  spec: streamSpecSchema.optional(),
});
export type StreamEntry = z.infer<typeof entrySchema>;

export class StreamDirectory {
  private readonly entries = new Map<string, { revision: number; entry?: StreamEntry }>();
  private stopWatching?: () => void;

  private constructor(
    private readonly kv: KV,
    private readonly log: (line: string) => void,
  ) {}

  static async open(
    connection: NatsConnection,
    log: (line: string) => void,
    bucket = STREAMS_BUCKET,
  ): Promise<StreamDirectory> {
    const kv = await new Kvm(connection).create(bucket, { history: 1, storage: 'file' } as const);
    const directory = new StreamDirectory(kv, log);
    directory.stopWatching = await watchBucket(kv, (entry) => directory.take(entry));
    return directory;
  }

  /** Every stream the cluster runs. */
  streams(): string[] {
    return [...this.entries].filter(([, held]) => held.entry).map(([id]) => id);
  }

  /** The venue entries of the streams `owner` ingests. */
  ownedBy(owner: string): StreamSpec[] {
    return [...this.entries.values()].flatMap(({ entry }) =>
      entry?.owner === owner && entry.spec ? [entry.spec] : [],
    );
  }

  /** Records that `owner` ingests the stream (a venue entry, or a capture's id). */
  async claim(owner: string, stream: StreamSpec | { id: string }): Promise<void> {
    const entry: StreamEntry = { owner, ...('source' in stream ? { spec: stream } : {}) };
    const revision = await this.kv.put(stream.id, JSON.stringify(entry));
    const held = this.entries.get(stream.id);
    if (!held || held.revision < revision) this.entries.set(stream.id, { revision, entry });
  }

  /** The stream is no longer run (a capture that ended). */
  async release(stream: string): Promise<void> {
    await this.kv.delete(stream);
  }

  close(): void {
    this.stopWatching?.();
  }

  private take(kvEntry: KvEntry): void {
    const held = this.entries.get(kvEntry.key);
    if (held && held.revision >= kvEntry.revision) return;
    if (kvEntry.operation !== 'PUT') {
      this.entries.set(kvEntry.key, { revision: kvEntry.revision });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(kvEntry.string());
    } catch {
      value = undefined;
    }
    const parsed = entrySchema.safeParse(value);
    if (!parsed.success) {
      this.log(`stream directory: ${kvEntry.key} is not a valid entry; ignored`);
      return;
    }
    this.entries.set(kvEntry.key, { revision: kvEntry.revision, entry: parsed.data });
  }
}
