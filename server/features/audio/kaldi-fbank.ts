/**
 * Kaldi-compatible log-mel filterbank, as torchaudio.compliance.kaldi.fbank computes it, with
 * AST's settings by default. Per frame: remove DC, pre-emphasise, window, zero-pad to a power of
 * two, power spectrum, mel bands, log (floored at float32 epsilon). Dither is 0 (deterministic).
 */
import { framesOf, FrameStream, type FrameTransform } from './frame-stream.js';
import type { FeatureMatrix } from './feature-matrix.js';
import { applyMelBands, kaldiMelBands } from './mel-filterbank.js';
import { RealSpectrum, nextPowerOfTwo } from './real-spectrum.js';

export interface KaldiFbankOptions {
  readonly sampleRate: number;
  readonly frameLengthMs: number;
  readonly frameShiftMs: number;
  readonly melBins: number;
  readonly lowHz: number;
  /** 0 means Nyquist, as in Kaldi (negative values count down from Nyquist). */
  readonly highHz: number;
  readonly preemphasis: number;
  /** Kaldi's 'hanning' is the symmetric Hann window (AST's choice over the default Povey). */
  readonly window: 'hanning';
}

/** AST's call: fbank(htk_compat=True, use_energy=False, window_type='hanning', num_mel_bins=128, dither=0, frame_shift=10). */
export const AST_FBANK: KaldiFbankOptions = {
  sampleRate: 16_000,
  frameLengthMs: 25,
  frameShiftMs: 10,
  melBins: 128,
  lowHz: 20,
  highHz: 0,
  preemphasis: 0.97,
  window: 'hanning',
};

/** torch.finfo(torch.float).eps: Kaldi's floor before the log. */
const FLOAT32_EPSILON = 2 ** -23;

function symmetricHann(length: number): Float64Array {
  return Float64Array.from(
    { length },
    (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (length - 1)),
  );
}

export function kaldiFbankTransform(options: KaldiFbankOptions = AST_FBANK): FrameTransform {
  const length = Math.trunc((options.sampleRate * options.frameLengthMs) / 1000);
  const hop = Math.trunc((options.sampleRate * options.frameShiftMs) / 1000);
  const fftSize = nextPowerOfTwo(length);
  const nyquist = options.sampleRate / 2;
  const highHz = options.highHz > 0 ? options.highHz : nyquist + options.highHz;
  const bands = kaldiMelBands({
    melBins: options.melBins,
    fftSize,
    sampleRate: options.sampleRate,
    lowHz: options.lowHz,
    highHz,
  });
  const window = symmetricHann(length);
  const spectrum = new RealSpectrum(fftSize);
  const energies = new Float64Array(options.melBins);
  const { preemphasis } = options;

  return {
    length,
    hop,
    cols: options.melBins,
    apply(frame, out) {
      let mean = 0;
      for (let i = 0; i < length; i++) mean += frame[i]!;
      mean /= length;
      // DC removal, pre-emphasis and window in one pass, backwards so each step still sees the
      // previous raw sample; the first sample is its own predecessor (torchaudio's replicate pad).
      for (let i = length - 1; i > 0; i--) {
        frame[i] = (frame[i]! - mean - preemphasis * (frame[i - 1]! - mean)) * window[i]!;
      }
      frame[0] = (frame[0]! - mean) * (1 - preemphasis) * window[0]!;
      applyMelBands(bands, spectrum.compute(frame, true), energies);
      for (let b = 0; b < energies.length; b++)
        out[b] = Math.log(Math.max(energies[b]!, FLOAT32_EPSILON));
    },
  };
}

/** Log-mel filterbank of a whole signal (frames × melBins). */
export function kaldiFbank(
  samples: ArrayLike<number>,
  options: KaldiFbankOptions = AST_FBANK,
): FeatureMatrix {
  return framesOf(samples, kaldiFbankTransform(options), 'kaldi fbank');
}

/** The same frames from audio pushed in arbitrary chunks. */
export function kaldiFbankStream(options: KaldiFbankOptions = AST_FBANK): FrameStream {
  return new FrameStream(kaldiFbankTransform(options));
}
