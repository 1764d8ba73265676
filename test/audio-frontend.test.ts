import { describe, expect, it } from 'vitest';
import { AudioInputError } from '../server/features/audio/audio-input-error.js';
import { astInput } from '../server/features/audio/ast-input.js';
import { concatRows, type FeatureMatrix } from '../server/features/audio/feature-matrix.js';
import type { FrameStream } from '../server/features/audio/frame-stream.js';
import { kaldiFbank, kaldiFbankStream } from '../server/features/audio/kaldi-fbank.js';
import {
  vggishExamples,
  vggishLogMel,
  vggishLogMelStream,
} from '../server/features/audio/vggish-log-mel.js';
import { manifest, maxAbsDifference, readFloat32 } from './support/frontend-fixtures.js';

const fixtures = manifest.audio.map((fixture) => ({
  ...fixture,
  samples: readFloat32(fixture.signal),
}));
const REAL_INSTRUMENTS = new Set(['piano', 'violin', 'drums']);

/** Share of values differing by more than `tolerance`. */
function shareBeyond(a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): number {
  let beyond = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > tolerance) beyond += 1;
  return beyond / a.length;
}

describe('AST fbank parity with torchaudio.compliance.kaldi.fbank', () => {
  for (const fixture of fixtures) {
    it(`${fixture.name}: same frames, within 1e-3 of torchaudio in float64`, () => {
      const fbank = kaldiFbank(fixture.samples);
      expect([fbank.rows, fbank.cols]).toEqual(fixture.fbank.shape);
      expect(maxAbsDifference(fbank.data, readFloat32(fixture.fbank64))).toBeLessThan(1e-3);
    });

    it(`${fixture.name}: against torchaudio in float32 (what AST sees)`, () => {
      const ours = kaldiFbank(fixture.samples).data;
      const reference = readFloat32(fixture.fbank);
      if (REAL_INSTRUMENTS.has(fixture.name) || fixture.name === 'silence') {
        expect(maxAbsDifference(ours, reference)).toBeLessThan(1e-3);
      } else {
        // Noise, a clipped tone and a 77 ms tone leave some bands near float32's FFT rounding
        // floor, where torchaudio's own float32 and float64 results differ by up to ~5e-3.
        expect(shareBeyond(ours, reference, 1e-3)).toBeLessThan(0.01);
        expect(maxAbsDifference(ours, reference)).toBeLessThan(1e-2);
      }
    });
  }

  it('pads and crops to the target length with AST normalisation', () => {
    const piano = fixtures.find((fixture) => fixture.name === 'piano')!;
    const fbank = kaldiFbank(piano.samples);
    for (const [target, file] of [
      [100, piano.astInput100!],
      [256, piano.astInput256!],
    ] as const) {
      const input = astInput(fbank, target);
      expect(input.length).toBe(target * 128);
      expect(maxAbsDifference(input, readFloat32(file))).toBeLessThan(1e-4);
    }
  });
});

describe('VGGish log-mel parity with a NumPy implementation of mel_features.py', () => {
  for (const fixture of fixtures.filter((f) => f.vggish)) {
    it(fixture.name, () => {
      const logMel = vggishLogMel(fixture.samples);
      expect([logMel.rows, logMel.cols]).toEqual(fixture.vggish!.shape);
      expect(maxAbsDifference(logMel.data, readFloat32(fixture.vggish!))).toBeLessThan(1e-5);
    });
  }

  it('cuts 0.96 s examples of 96 × 64', () => {
    const piano = fixtures.find((fixture) => fixture.name === 'piano')!;
    const logMel = vggishLogMel(piano.samples); // 2 s → 198 frames → 2 examples
    const examples = vggishExamples(logMel);
    expect(examples.count).toBe(2);
    expect(examples.data).toEqual(logMel.data.subarray(0, 2 * 96 * 64));
  });
});

describe('streaming', () => {
  /** Pushes `samples` in chunks whose sizes cycle through `sizes`. */
  function pushInChunks(
    stream: FrameStream,
    samples: Float32Array,
    sizes: number[],
  ): FeatureMatrix {
    const parts: FeatureMatrix[] = [];
    for (let offset = 0, i = 0; offset < samples.length; i++) {
      const size = sizes[i % sizes.length]!;
      parts.push(stream.push(samples.subarray(offset, offset + size)));
      offset += size;
    }
    return concatRows(parts, parts[0]!.cols);
  }

  for (const sizes of [[1], [7, 160, 0, 399], [401, 4000], [320]]) {
    it(`chunks of ${sizes.join('/')} samples give exactly the frames of one call`, () => {
      for (const { samples } of fixtures) {
        expect(pushInChunks(kaldiFbankStream(), samples, sizes)).toEqual(kaldiFbank(samples));
        if (samples.length >= 400) {
          expect(pushInChunks(vggishLogMelStream(), samples, sizes)).toEqual(vggishLogMel(samples));
        }
      }
    });
  }
});

describe('bad input', () => {
  it('refuses NaN and infinite samples, naming the sample', () => {
    const samples = new Float32Array(1000);
    samples[321] = Number.NaN;
    expect(() => kaldiFbank(samples)).toThrow(AudioInputError);
    expect(() => kaldiFbank(samples)).toThrow(/sample 321 is NaN/);
    samples[321] = Number.POSITIVE_INFINITY;
    expect(() => vggishLogMel(samples)).toThrow(/sample 321 is Infinity/);
    expect(() => kaldiFbankStream().push([0, 1, Number.NEGATIVE_INFINITY])).toThrow(
      /sample 2 is -Infinity/,
    );
  });

  it('refuses audio too short for one frame', () => {
    expect(() => kaldiFbank(new Float32Array(0))).toThrow(
      /0 samples is too short; one frame needs 400/,
    );
    expect(() => kaldiFbank(new Float32Array(399))).toThrow(/399 samples is too short/);
    expect(kaldiFbank(new Float32Array(400)).rows).toBe(1);
    expect(() => vggishExamples(vggishLogMel(new Float32Array(15_599)))).toThrow(
      /needs 96 frames \(0\.96 s\) for one example, got 95/,
    );
  });

  it('refuses a meaningless AST target length', () => {
    const fbank = kaldiFbank(new Float32Array(1600));
    expect(() => astInput(fbank, 0)).toThrow(/positive integer, got 0/);
    expect(() => astInput(fbank, 2.5)).toThrow(AudioInputError);
  });
});
