/**
 * Cluster mode (issue #13): an ingest node cuts a real source (the demo clip through ffmpeg) into
 * segments and queues them as records; started again, it carries on from where the stream was.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestStream, IngestPositions } from '../server/cluster/ingest-node.js';
import { decodeSegment } from '../server/cluster/segment-record.js';
import {
  ensureSegmentQueue,
  workOnSegments,
  type QueuedSegment,
} from '../server/cluster/segment-queue.js';
import { mediaFileSource } from '../server/sources/media-file-source.js';
import { DEMO } from './support/demo-excerpt.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

describe('an ingest node', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];
  const connect = async (name: string) => {
    const connection = await server.connectRole(name);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    await ensureSegmentQueue(await connect('setup'));
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  });

  it('queues the demo as one-second segment records, and a restart carries on from the last index', async () => {
    const config = { id: 'demo', source: () => mediaFileSource(DEMO) };
    const run = async (segments: number) => {
      const connection = await connect('ingest');
      const positions = await IngestPositions.open(connection);
      return firstValueFrom(
        ingestStream(connection, positions, config, { log: () => {} }).pipe(
          take(segments),
          toArray(),
        ),
      );
    };
    expect(await run(3)).toEqual([0, 1, 2]);
    expect(await run(2)).toEqual([3, 4]); // not 0 and 1 again
    const queued: QueuedSegment[] = [];
    const worker = await workOnSegments(
      await connect('inference'),
      async (segment) => void queued.push(segment),
      { staleAfterMs: 60_000, stale: () => {} },
    );
    await until(() => queued.length === 5, 'five segments queued');
    await worker.stop();
    expect(queued.map((s) => [s.stream, s.index])).toEqual([0, 1, 2, 3, 4].map((i) => ['demo', i]));
    const fourth = await decodeSegment(queued[3]!.payload);
    expect([fourth.index, fourth.start, fourth.samples.length]).toEqual([3, 3, 16_000]);
    expect(fourth.frame.width).toBeGreaterThan(0);
  }, 60_000);
});
