/**
 * VGGish's input (vggish_input.waveform_to_examples / mel_features.log_mel_spectrogram):
 * 25 ms periodic-Hann frames every 10 ms at 16 kHz, |FFT| over 512 points, 64 mel bands
 * 125–7500 Hz, log(mel + 0.01); then non-overlapping 0.96 s examples of 96 × 64.
 */
import { AudioInputError } from './audio-input-error.js';
import { framesOf, FrameStream, type FrameTransform } from './frame-stream.js';
import type { FeatureMatrix } from './feature-matrix.js';
import { applyMelBands, vggishMelBands } from './mel-filterbank.js';
import { RealSpectrum, nextPowerOfTwo } from './real-spectrum.js';

export const VGGISH = {
  sampleRate: 16_000,
  frameLength: 400,
  hop: 160,
  melBins: 64,
  lowHz: 125,
  highHz: 7500,
  logOffset: 0.01,
  exampleFrames: 96,
} as const;

function periodicHann(length: number): Float64Array {
  return Float64Array.from({ length }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length));
}

/**
 * VGGish's framing and mel bands over |FFT| (`squared` false, VGGish's own) or |FFT|² (power);
 * `finish` writes a frame's 64 band values as features.
 */
export function vggishMelTransform(
  squared: boolean,
  finish: (mel: Float64Array, out: Float32Array) => void,
): FrameTransform {
  const fftSize = nextPowerOfTwo(VGGISH.frameLength);
  const bands = vggishMelBands({
    melBins: VGGISH.melBins,
    fftSize,
    sampleRate: VGGISH.sampleRate,
    lowHz: VGGISH.lowHz,
    highHz: VGGISH.highHz,
  });
  const window = periodicHann(VGGISH.frameLength);
  const spectrum = new RealSpectrum(fftSize);
  const mel = new Float64Array(VGGISH.melBins);
  return {
    length: VGGISH.frameLength,
    hop: VGGISH.hop,
    cols: VGGISH.melBins,
    apply(frame, out) {
      for (let i = 0; i < frame.length; i++) frame[i]! *= window[i]!;
      applyMelBands(bands, spectrum.compute(frame, squared), mel);
      finish(mel, out);
    },
  };
}

export function vggishTransform(): FrameTransform {
  return vggishMelTransform(false, (mel, out) => {
    for (let b = 0; b < mel.length; b++) out[b] = Math.log(mel[b]! + VGGISH.logOffset);
  });
}

/** Log-mel frames of a whole 16 kHz signal (frames × 64). */
export function vggishLogMel(samples: ArrayLike<number>): FeatureMatrix {
  return framesOf(samples, vggishTransform(), 'VGGish log-mel');
}

export function vggishLogMelStream(): FrameStream {
  return new FrameStream(vggishTransform());
}

/** Non-overlapping 96-frame examples (examples × 96 × 64, flat); a partial tail is dropped. */
export function vggishExamples(logMel: FeatureMatrix): { count: number; data: Float32Array } {
  if (logMel.cols !== VGGISH.melBins) {
    throw new AudioInputError(
      `VGGish examples need ${VGGISH.melBins} mel bands, got ${logMel.cols}`,
    );
  }
  const count = Math.floor(logMel.rows / VGGISH.exampleFrames);
  if (count === 0) {
    throw new AudioInputError(
      `VGGish needs ${VGGISH.exampleFrames} frames (0.96 s) for one example, got ${logMel.rows}`,
    );
  }
  return { count, data: logMel.data.slice(0, count * VGGISH.exampleFrames * VGGISH.melBins) };
}
