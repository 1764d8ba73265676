import type { SegmentFeatures } from '../../server/encoders/segment-encoders.js';
import { FeatureWindow } from '../../server/windows/feature-window.js';

/** A window of `segments` segments with the tiny profile's feature sizes and seeded values. */
export function tinyWindow(segments: number, seed: number, stereo = false): FeatureWindow {
  const window = new FeatureWindow(segments);
  let state = seed;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const filled = (dims: number[]) => ({
    dims,
    data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, next),
  });
  for (let t = 0; t < segments; t++) {
    const features: SegmentFeatures = {
      frame: filled([1, 64]),
      patches: filled([1, 8, 64]),
      audio: filled([1, 128 + 44]), // the clip embedding, then TinyOnsets' facts (session 17)
      ast: filled([1, 8, 64]),
      // Band power per channel, louder on the left (the stereo features stage writes).
      ...(stereo && {
        stereo: {
          dims: [1, 2, 64],
          data: Float32Array.from({ length: 128 }, (_, i) => Math.abs(next()) * (i < 64 ? 4 : 1)),
        },
      }),
    };
    window.push(t, t, features);
  }
  return window;
}
