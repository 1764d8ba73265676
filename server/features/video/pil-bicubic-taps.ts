/**
 * The fixed-point filter taps of Pillow's antialiased bicubic resize (libImaging/Resample.c):
 * the filter (a = −0.5) widened by the downscale factor, weights normalised then rounded to
 * 22-bit integers as Pillow does. Shared by the scalar resize and the SIMD one.
 */

export const PRECISION_BITS = 32 - 8 - 2;
export const ONE = 2 ** PRECISION_BITS;
export const HALF = 2 ** (PRECISION_BITS - 1);

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Fixed-point taps for output positions [from, from + count) of an inSize → outSize resize. */
export interface Taps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly stride: number;
  readonly weights: Int32Array;
}

export function taps(inSize: number, outSize: number, from: number, count: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(count);
  const counts = new Int32Array(count);
  const weights = new Int32Array(count * stride);
  const raw = new Float64Array(stride);
  for (let i = 0; i < count; i++) {
    const center = (from + i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      raw[x] = bicubic((x + xmin - center + 0.5) / filterScale);
      total += raw[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? raw[x]! / total : raw[x]!;
      // C's (int) truncation after adding ±0.5: round half away from zero.
      weights[i * stride + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    first[i] = xmin;
    counts[i] = xmax;
  }
  return { first, count: counts, stride, weights };
}

/** Pillow's clip8: the fixed-point sum (an int32, as in C) shifted down and clamped to a byte. */
export function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

export interface ResizeWindow {
  /** Full output size of the resize. */
  readonly outWidth: number;
  readonly outHeight: number;
  /** The part of it to compute. */
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}
