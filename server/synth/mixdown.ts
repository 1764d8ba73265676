/**
 * Stems → the scene's stereo soundtrack: each part scaled to its target loudness, panned to its
 * stage position (constant power), plus voiceover and room noise. Pure functions on typed arrays.
 */
import type { Random } from './random.js';

export const dbToGain = (db: number) => 10 ** (db / 20);
export const gainToDb = (gain: number) => 20 * Math.log10(Math.max(gain, 1e-10));

export function rms(samples: Float32Array, from = 0, to = samples.length): number {
  let energy = 0;
  for (let i = from; i < to; i++) energy += samples[i]! ** 2;
  return to > from ? Math.sqrt(energy / (to - from)) : 0;
}

/** Scales `stem` in place so that its RMS over the samples where it sounds is `targetDb`. */
export function normaliseLoudness(stem: Float32Array, targetDb: number, rate: number): void {
  // Only seconds with sound count, so a part that plays for 2 s is as loud as one that plays for 10.
  let energy = 0;
  let count = 0;
  for (let from = 0; from < stem.length; from += rate) {
    const to = Math.min(stem.length, from + rate);
    const level = rms(stem, from, to);
    if (gainToDb(level) > -70) {
      energy += level ** 2 * (to - from);
      count += to - from;
    }
  }
  if (count === 0) return;
  const gain = dbToGain(targetDb) / Math.sqrt(energy / count);
  for (let i = 0; i < stem.length; i++) stem[i]! *= gain;
}

/** Constant-power pan: x = 0 hard left, 1 hard right, 0.5 centre (−3 dB each side). */
export function panGains(x: number): [left: number, right: number] {
  const angle = (Math.min(1, Math.max(0, x)) * Math.PI) / 2;
  return [Math.cos(angle), Math.sin(angle)];
}

/** Pink-ish noise (white through a one-pole low-pass) at `db` RMS. */
export function roomNoise(random: Random, length: number, db: number): Float32Array {
  const noise = new Float32Array(length);
  let state = 0;
  for (let i = 0; i < length; i++) {
    state = 0.97 * state + 0.03 * (random.float() * 2 - 1);
    noise[i] = state;
  }
  const gain = dbToGain(db) / Math.max(rms(noise), 1e-12);
  for (let i = 0; i < length; i++) noise[i]! *= gain;
  return noise;
}

export interface MixSource {
  readonly samples: Float32Array;
  /** Stage position for panning (0–1). */
  readonly x: number;
  /** Sample index where it starts in the mix. */
  readonly offset?: number;
}

/** Sums panned sources into stereo; scales everything down if the sum would clip. Returns the scale. */
export function mixStereo(
  sources: readonly MixSource[],
  length: number,
): { left: Float32Array; right: Float32Array; scale: number } {
  const left = new Float32Array(length);
  const right = new Float32Array(length);
  for (const { samples, x, offset = 0 } of sources) {
    const [gainLeft, gainRight] = panGains(x);
    for (let i = 0; i < samples.length && offset + i < length; i++) {
      left[offset + i]! += samples[i]! * gainLeft;
      right[offset + i]! += samples[i]! * gainRight;
    }
  }
  let peak = 0;
  for (let i = 0; i < length; i++) peak = Math.max(peak, Math.abs(left[i]!), Math.abs(right[i]!));
  const scale = peak > 0.95 ? 0.95 / peak : 1;
  if (scale !== 1) {
    for (let i = 0; i < length; i++) {
      left[i]! *= scale;
      right[i]! *= scale;
    }
  }
  return { left, right, scale };
}
