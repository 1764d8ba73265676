/** A stream's window of segment features, sent once and repeated per question in the worker. */
import { describe, expect, it } from 'vitest';
import type { SegmentFeatures } from '../server/encoders/segment-encoders.js';
import { FeatureWindow, gatherWindows, repeatWindow } from '../server/windows/feature-window.js';

/** Features of one segment whose every value says which segment it was. */
function features(segment: number): SegmentFeatures {
  const filled = (dims: number[]) => ({
    dims,
    data: new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => segment * 1000 + i),
  });
  return {
    frame: filled([1, 3]),
    patches: filled([1, 2, 2]),
    audio: filled([1, 4]),
    ast: filled([1, 2, 3]),
  };
}

describe('FeatureWindow', () => {
  const window = new FeatureWindow(3);
  for (let s = 0; s < 5; s++) window.push(s, s, features(s));

  it('gives the last segments once (B = 1), in order', () => {
    const single = window.single();
    expect(single.batch).toBe(1);
    expect(single.segments).toBe(3);
    expect([...single.frames]).toEqual([2000, 2001, 2002, 3000, 3001, 3002, 4000, 4001, 4002]);
    expect(single.dims).toEqual({ frame: 3, patches: 2, patch: 2, audio: 4, bands: 2, ast: 3 });
  });

  it('repeats a single window per question exactly as batch(n) lays it out', () => {
    const repeated = repeatWindow(window.single(), 4);
    expect(repeated).toEqual(window.batch(4));
    expect(repeated.patches.length).toBe(4 * 3 * 2 * 2);
    expect([...repeated.audio.subarray(12, 16)]).toEqual([2000, 2001, 2002, 2003]);
  });

  it('returns a single window asked once as it is, and refuses to repeat a batch', () => {
    const single = window.single();
    expect(repeatWindow(single, 1)).toBe(single);
    expect(() => repeatWindow(window.batch(2), 3)).toThrow(/only a single window repeats, not 2/);
  });

  it('gathers the windows a list names, in its order and as often as named', () => {
    const later = new FeatureWindow(3);
    for (let s = 10; s < 13; s++) later.push(s, s, features(s));
    const [a, b] = [window.single(), later.single()];
    const both = { ...a, batch: 2, frames: Float32Array.from([...a.frames, ...b.frames]) };
    const picked = gatherWindows(
      {
        ...both,
        ...Object.fromEntries(
          (['patches', 'audio', 'ast'] as const).map((k) => [
            k,
            Float32Array.from([...a[k], ...b[k]]),
          ]),
        ),
        segmentMask: Uint8Array.from([1, 1, 1, 1, 0, 0]),
      },
      [1, 0, 1],
    );
    expect(picked.batch).toBe(3);
    expect([...picked.frames]).toEqual([...b.frames, ...a.frames, ...b.frames]);
    expect([...picked.ast]).toEqual([...b.ast, ...a.ast, ...b.ast]);
    expect([...picked.segmentMask]).toEqual([1, 0, 0, 1, 1, 1, 1, 0, 0]);
  });
});
