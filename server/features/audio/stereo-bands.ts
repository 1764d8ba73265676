/**
 * Where a sound stands: per channel (left, right) the power of VGGish's 64 mel bands, averaged
 * over a segment's 25 ms frames (periodic Hann, 10 ms hop, |FFT|² over 512 points). Power, not
 * log, so that parts add: the head explains each second as a sum of class templates panned to
 * where each performer stands (model.py's stereo_power). A mono source gives left = right,
 * which says nothing of where a sound stands (the head then keeps its mono facts).
 */
import { framesOf } from './frame-stream.js';
import { VGGISH, vggishMelTransform } from './vggish-log-mel.js';

export const STEREO_CHANNELS = 2;
export const STEREO_BANDS = VGGISH.melBins;

/** Mean mel-band power of one channel over its frames (64 values). */
export function meanBandPower(samples: ArrayLike<number>): Float64Array {
  const power = vggishMelTransform(true, (mel, out) => out.set(mel));
  const frames = framesOf(samples, power, 'stereo band power');
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
