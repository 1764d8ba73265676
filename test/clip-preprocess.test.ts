import { describe, expect, it } from 'vitest';
import {
  CLIP_PREPROCESSING,
  clipPixels,
  clipPreprocess,
  normalisePixels,
  resizeCropWindow,
} from '../server/features/video/clip-preprocess.js';
import { VideoInputError } from '../server/features/video/rgb-frame.js';
import { manifest, patternImage, readUint8 } from './support/frontend-fixtures.js';

describe('CLIP preprocessing parity with torchvision on PIL', () => {
  for (const fixture of manifest.clip) {
    const frame = {
      width: fixture.width,
      height: fixture.height,
      data: patternImage(fixture.width, fixture.height),
    };
    const spec = { ...CLIP_PREPROCESSING, size: fixture.size };

    it(`${fixture.width}×${fixture.height} → ${fixture.size}²: the same bytes as Resize(BICUBIC) + CenterCrop`, () => {
      const pixels = clipPixels(frame, fixture.size);
      const reference = readUint8(fixture.pixels);
      let differing = 0;
      for (let i = 0; i < reference.length; i++) if (pixels[i] !== reference[i]) differing += 1;
      expect(pixels.length).toBe(reference.length);
      expect(differing).toBe(0);
    });

    it(`${fixture.width}×${fixture.height} → ${fixture.size}²: normalised NCHW values`, () => {
      const tensor = clipPreprocess(frame, spec);
      expect(tensor.length).toBe(3 * fixture.size * fixture.size);
      for (const { at, value } of fixture.probes) {
        const [c, y, x] = at;
        expect(tensor[c * fixture.size * fixture.size + y * fixture.size + x]).toBeCloseTo(
          value,
          6,
        );
      }
    });
  }

  it('centres the crop with Python rounding (87.5 → 88, 86.5 → 86)', () => {
    expect(resizeCropWindow(641, 359, 224)).toMatchObject({
      outWidth: 399,
      outHeight: 224,
      left: 88,
      top: 0,
    });
    expect(resizeCropWindow(1278, 720, 224)).toMatchObject({ outWidth: 397, left: 86 });
    expect(resizeCropWindow(360, 640, 224)).toMatchObject({
      outWidth: 224,
      outHeight: 398,
      left: 0,
      top: 87,
    });
  });

  it('passes a frame already at the crop size through unchanged', () => {
    const frame = { width: 224, height: 224, data: patternImage(224, 224) };
    expect(clipPixels(frame)).toEqual(frame.data);
  });
});

describe('bad frames', () => {
  it('refuses a buffer of the wrong size, naming both sizes', () => {
    expect(() =>
      clipPreprocess({ width: 640, height: 480, data: new Uint8Array(640 * 480 * 4) }),
    ).toThrow(/640×480 RGB needs 921600 bytes, got 1228800/);
  });

  it('refuses empty or fractional dimensions', () => {
    expect(() => clipPreprocess({ width: 0, height: 480, data: new Uint8Array(0) })).toThrow(
      VideoInputError,
    );
    expect(() => clipPreprocess({ width: 1.5, height: 2, data: new Uint8Array(9) })).toThrow(
      /positive integers, got 1\.5×2/,
    );
    expect(() => normalisePixels(new Uint8Array(10))).toThrow(
      /expected 150528 bytes for a 224×224 RGB image/,
    );
  });
});
