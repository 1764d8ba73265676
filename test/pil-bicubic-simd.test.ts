import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resizeCropWindow } from '../server/features/video/clip-preprocess.js';
import { pilBicubicResizeWindowScalar } from '../server/features/video/pil-bicubic.js';
import { pilBicubicResizeWindowSimd } from '../server/features/video/pil-bicubic-simd.js';
// @ts-expect-error: a plain .mjs script without types
import { buildWasm } from '../scripts/build-wasm.mjs';

/** Noise with full-range steps: large positive and negative sums, clamping at both ends. */
function noiseImage(width: number, height: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length: width * height * 3 }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 31 ? 255 : state >>> 24 < 16 ? 0 : state >>> 24;
  });
}

describe('the SIMD bicubic kernel gives the scalar reference’s bytes', () => {
  // Downscales by large and small factors, upscales, odd widths, crops whose rows are not a
  // multiple of 16 bytes (the kernel's step), a crop smaller than the resize on both axes.
  const cases: [number, number, number][] = [
    [1280, 720, 224],
    [1920, 1080, 224],
    [641, 359, 50],
    [333, 777, 97],
    [100, 80, 224],
    [17, 5, 9],
    [3, 2, 1],
  ];
  for (const [width, height, size] of cases) {
    it(`${width}×${height} → ${size}²`, () => {
      const rgb = noiseImage(width, height, width * height);
      const window = resizeCropWindow(width, height, size);
      const simd = pilBicubicResizeWindowSimd(rgb, width, height, window);
      const scalar = pilBicubicResizeWindowScalar(rgb, width, height, window);
      expect(simd.length).toBe(size * size * 3);
      expect(Buffer.compare(Buffer.from(simd), Buffer.from(scalar))).toBe(0);
    });
  }

  it('an off-centre window of a resize (the segment front-end’s patches)', () => {
    const rgb = noiseImage(640, 360, 9);
    const window = { outWidth: 300, outHeight: 170, left: 13, top: 101, width: 61, height: 47 };
    expect(pilBicubicResizeWindowSimd(rgb, 640, 360, window)).toEqual(
      pilBicubicResizeWindowScalar(rgb, 640, 360, window),
    );
  });

  it('calls in a row reuse the kernel’s memory without leaking results into each other', () => {
    const big = noiseImage(1920, 1080, 1);
    const small = noiseImage(64, 48, 2);
    const first = pilBicubicResizeWindowSimd(small, 64, 48, resizeCropWindow(64, 48, 32));
    pilBicubicResizeWindowSimd(big, 1920, 1080, resizeCropWindow(1920, 1080, 224));
    expect(pilBicubicResizeWindowSimd(small, 64, 48, resizeCropWindow(64, 48, 32))).toEqual(first);
  });
});

describe('the committed kernel', () => {
  it('is what its AssemblyScript source compiles to (npm run build:wasm)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutti-wasm-'));
    try {
      const [built] = (await buildWasm(dir)) as string[];
      const committed = new URL('../server/features/video/wasm/pil-bicubic.wasm', import.meta.url);
      expect(readFileSync(built!).equals(readFileSync(committed))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
