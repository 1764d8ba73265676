/**
 * Where a sound stands: per channel (left, right) the power of VGGish's 64 mel bands, averaged
 * over a segment's 25 ms frames (periodic Hann, 10 ms hop, |FFT|² over 512 points). Power, not
 * log, so that parts add: the head explains each second as a sum of class templates panned to
 * where each performer stands (model.py's stereo_loudness). A mono source gives left = right,
 * which says nothing of where a sound stands (the head then keeps its mono loudness).
 */
import { framesOf, type FrameTransform } from './frame-stream.js';
import { applyMelBands, vggishMelBands } from './mel-filterbank.js';
import { RealSpectrum, nextPowerOfTwo } from './real-spectrum.js';
import { VGGISH, periodicHann } from './vggish-log-mel.js';

export const STEREO_CHANNELS = 2;
export const STEREO_BANDS = VGGISH.melBins;

function bandPowerTransform(): FrameTransform {
  const fftSize = nextPowerOfTwo(VGGISH.frameLength);
  const bands = vggishMelBands({ ...VGGISH, fftSize });
  const window = periodicHann(VGGISH.frameLength);
  const spectrum = new RealSpectrum(fftSize);
  const power = new Float64Array(VGGISH.melBins);
  return {
    length: VGGISH.frameLength,
    hop: VGGISH.hop,
    cols: VGGISH.melBins,
    apply(frame, out) {
      for (let i = 0; i < frame.length; i++) frame[i]! *= window[i]!;
      applyMelBands(bands, spectrum.compute(frame, true), power);
      out.set(power);
    },
  };
}

/** Mean mel-band power of one channel over its frames (64 values). */
export function meanBandPower(samples: ArrayLike<number>): Float64Array {
  const frames = framesOf(samples, bandPowerTransform(), 'stereo band power');
  const mean = new Float64Array(STEREO_BANDS);
  for (let r = 0; r < frames.rows; r++)
    for (let b = 0; b < STEREO_BANDS; b++) mean[b]! += frames.data[r * STEREO_BANDS + b]!;
  return mean.map((sum) => sum / Math.max(1, frames.rows));
}

/** 2 × 64: left's band power, then right's. A mono segment passes the same samples twice. */
export function stereoBands(left: ArrayLike<number>, right: ArrayLike<number>): Float32Array {
  const out = new Float32Array(STEREO_CHANNELS * STEREO_BANDS);
  out.set(meanBandPower(left), 0);
  out.set(right === left ? out.subarray(0, STEREO_BANDS) : meanBandPower(right), STEREO_BANDS);
  return out;
}
