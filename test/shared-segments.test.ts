/**
 * Hops sent as their segments: each segment's features live in shared memory from the worker that
 * encoded them, and the worker answering a hop lays the window out itself, so the monitor's thread
 * copies no window (README, "What the monitor's side alone carries").
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferencePool } from '../server/encoders/inference-pool.js';
import { questionTokenizer, readManifest } from '../server/encoders/model-manifest.js';
import { FeatureWindow, layOutWindow } from '../server/windows/feature-window.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { tinyWindow } from './support/tiny-window.js';

const PROFILE = path.join(REPO_ROOT, 'models', 'tiny');

describe('hops sent as their segments', () => {
  it('lays segments out as FeatureWindow.single does, and refuses segments of another size', () => {
    const window = tinyWindow(3, 11, true);
    expect(layOutWindow(window.segments())).toEqual(window.single());
    const [first, second] = window.segments();
    const short = { ...second!, patches: { dims: [1, 7, 64], data: new Float32Array(7 * 64) } };
    expect(() => layOutWindow([first!, short])).toThrow(
      'segment 1 of the window has 448 values, not 512',
    );
  });

  it('gets features in shared memory from the workers, and answers over segments as over the laid-out window', async () => {
    const manifest = readManifest(PROFILE);
    const ids = ['Is there a flute sound?', 'Where is the loudest instrument?'].map(
      questionTokenizer(manifest),
    );
    // Two workers: a segment encoded by one is read by the other where it is.
    const pool = await InferencePool.start(
      { profile: PROFILE, variant: 'full', threads: 1 },
      {},
      2,
    );
    try {
      const samples = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / 9));
      const frame = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(120) };
      const encoded = await Promise.all(
        [0, 1, 2, 3].map(
          async (t) =>
            (
              await pool.encode(
                samples.map((v) => v * (t + 1)),
                frame,
              )
            ).features,
        ),
      );
      for (const features of encoded)
        for (const tensor of [features.frame, features.patches, features.audio, features.ast])
          expect(tensor.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      const window = new FeatureWindow(3);
      // Each hop's window laid out in the worker's memory from the hop before (other values).
      for (const [t, features] of encoded.entries()) {
        window.push(t, t, features);
        const segments = window.segments();
        const laidOut = layOutWindow(segments);
        const [over, overLaidOut] = [
          await pool.answer(segments, ids),
          await pool.answer(laidOut, ids),
        ];
        expect(over.probabilities).toEqual(overLaidOut.probabilities);
        expect(over.temporal).toEqual(overLaidOut.temporal);
        // Still the monitor's, whole: nothing was moved away.
        for (const features of segments) expect(features.patches.data.length).toBe(8 * 64);
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});
