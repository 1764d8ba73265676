/**
 * Cluster mode, third layer (issue #13): segments as a JetStream work queue that inference nodes
 * share — each segment answered once, a dead node's segment redelivered to another, stale work
 * dropped and reported, the backlog bounded.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureSegmentQueue,
  publishSegment,
  SEGMENTS_STREAM,
  workOnSegments,
  type QueuedSegment,
  type SegmentWorker,
} from '../server/cluster/segment-queue.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

const LIMITS = { maxPerStream: 30, ackWaitMs: 1000, maxDeliveries: 3 };
const payload = (index: number) => new TextEncoder().encode(`segment ${index}`);

describe('segments as a shared work queue', () => {
  let server: NatsServer;
  let ingest: NatsConnection;
  const connections: NatsConnection[] = [];
  const workers: SegmentWorker[] = [];
  const node = async (name: string) => {
    const connection = await server.connectRole(name);
    connections.push(connection);
    return connection;
  };
  const work = async (
    connection: NatsConnection,
    answer: (segment: QueuedSegment) => Promise<void>,
    stale: (segment: QueuedSegment) => void = () => {},
  ) => {
    const worker = await workOnSegments(connection, answer, { staleAfterMs: 1500, stale });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    ingest = await node('ingest');
    await ensureSegmentQueue(ingest, LIMITS);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  });

  it('answers every segment once, spread over the nodes, the slower node taking less', async () => {
    const answered: Array<[string, number]> = [];
    const nodeWork = (name: string, ms: number) => async (segment: QueuedSegment) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      answered.push([name, segment.index]);
    };
    const fast = await work(await node('inference-fast'), nodeWork('fast', 5));
    const slow = await work(await node('inference-slow'), nodeWork('slow', 60));
    // Faster than real time (a segment a second per stream), slow enough that none waits long.
    for (let index = 0; index < 40; index++) {
      await publishSegment(ingest, { stream: 'stage-1', index, payload: payload(index) });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await publishSegment(ingest, { stream: 'stage-1', index: 7, payload: payload(7) }); // a repeat
    await until(() => answered.length >= 40, 'forty answers');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered.map(([, i]) => i).sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    const byFast = answered.filter(([name]) => name === 'fast').length;
    expect(byFast).toBeGreaterThan(40 - byFast); // the faster node did more
    expect(40 - byFast).toBeGreaterThan(0); // and the slow one some
    await Promise.all([fast.stop(), slow.stop()]);
  });

  it('gives a segment a node took and never finished to another node after the ack wait', async () => {
    const hung = await node('inference-hung');
    let taken: QueuedSegment | undefined;
    const hanging = await work(hung, (segment) => {
      taken = segment;
      return new Promise(() => {}); // never finishes: as a node that died holding it
    });
    await publishSegment(ingest, { stream: 'stage-2', index: 0, payload: payload(0) });
    await until(() => taken !== undefined, 'the hung node to take it');
    workers.splice(workers.indexOf(hanging), 1); // its answer never ends: nothing to wait for
    void hanging.stop();
    await hung.close(); // the node is gone
    const answered: QueuedSegment[] = [];
    await work(await node('inference-2'), async (segment) => void answered.push(segment));
    await until(() => answered.length === 1, 'the redelivery', 5000);
    expect(answered[0]).toMatchObject({ stream: 'stage-2', index: 0, delivery: 2 });
  });

  it('leaves a slow node its segment while it says it is working on it', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop())); // the slow node alone at first
    const deliveries: number[] = [];
    await work(await node('inference-slow'), async (segment) => {
      deliveries.push(segment.delivery);
      await new Promise((resolve) => setTimeout(resolve, 2.5 * LIMITS.ackWaitMs));
    });
    await publishSegment(ingest, { stream: 'stage-4', index: 0, payload: payload(0) });
    await until(() => deliveries.length === 1, 'the slow node to take it');
    // A node with nothing to do, that would get the segment if the slow one lost it.
    const other: QueuedSegment[] = [];
    await work(await node('inference-idle'), async (segment) => void other.push(segment));
    await new Promise((resolve) => setTimeout(resolve, 3 * LIMITS.ackWaitMs));
    expect(deliveries).toEqual([1]);
    expect(other).toEqual([]); // not redelivered: it was not lost, only slow
  });

  it('drops segments that waited too long, reporting each, and keeps at most 30 per stream', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    for (let index = 0; index < 50; index++)
      await publishSegment(ingest, {
        stream: 'stage-3',
        index,
        payload: payload(index),
        producedAt: Date.now() - (index < 45 ? 5000 : 0), // the last five are fresh
      });
    const manager = await jetstreamManager(ingest);
    const waiting = await manager.streams.getMessage(SEGMENTS_STREAM, {
      last_by_subj: 'tutti.segments.stage-3',
    });
    expect(waiting?.header.get('Tutti-Index')).toBe('49');
    expect((await manager.streams.info(SEGMENTS_STREAM)).state.messages).toBe(30);
    const answered: number[] = [];
    const stale: number[] = [];
    await work(
      await node('inference-3'),
      async (segment) => void answered.push(segment.index),
      (segment) => stale.push(segment.index),
    );
    await until(() => answered.length + stale.length === 30, 'every waiting segment handled');
    expect(answered).toEqual([45, 46, 47, 48, 49]);
    expect(stale).toEqual([...Array(25).keys()].map((k) => k + 20));
  });
  it('works on several segments at once when asked (inFlight), each answered once', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    let running = 0;
    let most = 0;
    let failedOnce = false;
    const answered: number[] = [];
    const wide = await workOnSegments(
      await node('inference-wide'),
      async (segment) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 200));
        running--;
        if (segment.index === 3 && !failedOnce) {
          failedOnce = true;
          throw new Error('injected: handed back'); // redelivered, answered once
        }
        answered.push(segment.index);
      },
      { staleAfterMs: 5000, stale: () => {}, inFlight: 4 },
    );
    workers.push(wide);
    for (let index = 0; index < 12; index++)
      await publishSegment(ingest, { stream: 'stage-5', index, payload: payload(index) });
    await until(() => answered.length === 12, 'twelve answers', 5000);
    expect([...answered].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(failedOnce).toBe(true);
    expect(most).toBe(4); // four at once, never more
    await expect(
      workOnSegments(ingest, async () => {}, { staleAfterMs: 1, stale: () => {}, inFlight: 0 }),
    ).rejects.toThrow(/segments in flight must be a whole number ≥ 1, not 0/);
  });
});
