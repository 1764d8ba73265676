import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../server/encoders/batch-queue.js';
import { readManifest } from '../server/encoders/model-manifest.js';
import {
  SegmentEncoders,
  splitFeatures,
  stackSegments,
} from '../server/encoders/segment-encoders.js';
import { segmentFrontend } from '../server/features/segment-frontend.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('BatchQueue', () => {
  it('runs a lone item at once, and what arrives meanwhile together in the next batch', async () => {
    const gates: (() => void)[] = [];
    const queue = new BatchQueue(async (items: number[]) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return items.map((x) => x * 10);
    }, 3);
    const first = queue.submit(1);
    await tick();
    expect(queue.batchSizes).toEqual([1]); // not waiting for company
    const later = [2, 3, 4, 5].map((x) => queue.submit(x));
    await tick();
    expect(queue.batchSizes).toEqual([1]); // still busy with the first
    gates.shift()!();
    expect(await first).toBe(10);
    await tick();
    expect(queue.batchSizes).toEqual([1, 3]); // capped at maxBatch
    gates.shift()!();
    await tick();
    gates.shift()!();
    expect(await Promise.all(later)).toEqual([20, 30, 40, 50]);
    expect(queue.batchSizes).toEqual([1, 3, 1]);
  });

  it('a failing batch rejects its own items only, and the queue goes on', async () => {
    let calls = 0;
    const queue = new BatchQueue(async (items: string[]) => {
      calls++;
      await tick();
      if (items.includes('bad')) throw new Error('encoder failed');
      return items.map((s) => s.toUpperCase());
    });
    const a = queue.submit('a');
    const bad = queue.submit('bad');
    const b = queue.submit('b');
    expect(await a).toBe('A');
    await expect(bad).rejects.toThrow('encoder failed');
    await expect(b).rejects.toThrow('encoder failed'); // batched with "bad"
    expect(await queue.submit('c')).toBe('C');
    expect(calls).toBe(3);
  });

  it('a batch function that loses results is an error, not a hang', async () => {
    const queue = new BatchQueue(async (items: number[]) => items.slice(1));
    await expect(queue.submit(1)).rejects.toThrow('a batch of 1 gave 0 results');
    expect(() => new BatchQueue(async (x: number[]) => x, 0)).toThrow(/at least one item/);
  });
});

describe('one encoder call for many streams', () => {
  it('gives each segment the features it gets alone (tiny profile, onnxruntime-node)', async () => {
    const manifest = readManifest(path.join(process.cwd(), 'models', 'tiny'));
    const encoders = await SegmentEncoders.load(manifest, { providers: ['cpu'] });
    const segments = [0, 1, 2, 3].map((k) => {
      const samples = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / (3 + k)));
      const data = Uint8Array.from({ length: 320 * 180 * 3 }, (_, i) => (i * (k + 7)) % 251);
      return segmentFrontend(samples, { width: 320, height: 180, data }, manifest.frontend);
    });
    const together = splitFeatures(await encoders.encode(stackSegments(segments)), 4);
    for (const [i, segment] of segments.entries()) {
      const alone = await encoders.encode(stackSegments([segment]));
      for (const name of ['ast', 'audio', 'frame', 'patches'] as const) {
        expect(together[i]![name].dims).toEqual(alone[name].dims);
        let worst = 0;
        alone[name].data.forEach(
          (v, j) => (worst = Math.max(worst, Math.abs(v - together[i]![name].data[j]!))),
        );
        expect(worst, `${name} of segment ${i}`).toBeLessThan(1e-4);
      }
    }
    await encoders.release();
  });
});
