/**
 * Cluster mode (issue #13): a stream's window lives in JetStream KV, so an inference node that
 * never saw a stream rebuilds its window from what other nodes encoded — through a killed and
 * restarted nats-server too.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeFeatures,
  encodeFeatures,
  FeatureStore,
  windowIndices,
} from '../server/cluster/feature-store.js';
import type { SegmentFeatures } from '../server/encoders/segment-encoders.js';
import { FeatureWindow } from '../server/windows/feature-window.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

/** Tiny-profile shapes, values that say which segment they belong to. */
function features(index: number): SegmentFeatures {
  const tensor = (dims: number[]) => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    data.forEach((_, i) => (data[i] = index + i / 1000));
    return { dims, data };
  };
  return {
    ast: tensor([1, 8, 64]),
    audio: tensor([1, 172]), // the clip embedding, then the onsets heard at 10 ms (session 17)
    frame: tensor([1, 64]),
    patches: tensor([1, 8, 64]),
  };
}

describe('encoded segments in JetStream KV', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];
  const lines: string[] = [];
  const node = async (name: string) => {
    const connection = await server.connectRole(name, lines);
    connections.push(connection);
    return FeatureStore.open(connection);
  };

  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  });

  it('round-trips a record exactly and refuses what is not one', () => {
    const record = encodeFeatures(12, features(3));
    expect(record.byteLength).toBe(12 + 2 * 13 + 2 * 9 + 4 * 1260); // 5,096 bytes
    const back = decodeFeatures(record);
    expect(back.start).toBe(12);
    expect(back.features.patches.dims).toEqual([1, 8, 64]);
    expect(Array.from(back.features.ast.data)).toEqual(Array.from(features(3).ast.data));
    expect(() => decodeFeatures(record.subarray(0, 100))).toThrow(/truncated/);
    expect(() => decodeFeatures(new Uint8Array(20))).toThrow(/bad magic/);
    const longer = new Uint8Array(record.byteLength + 4);
    longer.set(record);
    expect(() => decodeFeatures(longer)).toThrow(/4 bytes too many/);
    // With the band power per channel (a stereo source) as a fifth tensor.
    const stereo = { dims: [1, 2, 64], data: Float32Array.from({ length: 128 }, (_, i) => i / 7) };
    const withBands = encodeFeatures(12, { ...features(3), stereo });
    expect(withBands.byteLength).toBe(record.byteLength + 1 + 3 * 4 + 128 * 4);
    expect(Array.from(decodeFeatures(withBands).features.stereo!.data)).toEqual(
      Array.from(stereo.data),
    );
    expect(decodeFeatures(record).features.stereo).toBeUndefined();
  });

  it('gives another node the window, oldest first, and names what is missing', async () => {
    const [a, b] = [await node('inference-a'), await node('inference-b')];
    // Two nodes encoded the stream's segments between them, out of order; 6 was never encoded.
    for (const index of [0, 2, 4, 8, 10, 11])
      await a.put('stage-1', { index, start: index, features: features(index) });
    for (const index of [1, 3, 5, 7, 9])
      await b.put('stage-1', { index, start: index, features: features(index) });
    const third = await node('inference-c');
    const { segments, missing } = await third.get('stage-1', windowIndices(11, 10));
    expect(segments.map((s) => s.index)).toEqual([2, 3, 4, 5, 7, 8, 9, 10, 11]);
    expect(missing).toEqual([6]);
    expect(segments[3]!.features.audio.data[0]).toBe(5);
    // A window rebuilt from the bucket answers like one built where the segments were encoded.
    const rebuilt = new FeatureWindow(10);
    for (const s of segments) rebuilt.push(s.index, s.start, s.features);
    const local = new FeatureWindow(10);
    for (const i of [2, 3, 4, 5, 7, 8, 9, 10, 11]) local.push(i, i, features(i));
    expect(rebuilt.batch(2)).toEqual(local.batch(2));
    expect(rebuilt.span()).toEqual({ start: 2, end: 12 });
    // The start of a stream: no negative indices asked for.
    expect((await third.get('stage-1', windowIndices(1, 10))).segments.map((s) => s.index)).toEqual(
      [0, 1],
    );
    expect((await third.get('stage-2', windowIndices(3, 10))).missing).toEqual([0, 1, 2, 3]);
  });

  it('keeps them through a killed nats-server', async () => {
    const writer = await node('inference-d');
    await writer.put('stage-3', { index: 0, start: 0, features: features(0) });
    await server.kill('SIGKILL');
    await server.launch();
    await until(
      () => lines.some((line) => line === 'inference-d: back on the bus'),
      'reconnected',
      20_000,
    );
    const reader = await node('inference-e');
    const { segments } = await reader.get('stage-3', windowIndices(0, 10));
    expect(segments.map((s) => s.index)).toEqual([0]);
  }, 60_000);
});
