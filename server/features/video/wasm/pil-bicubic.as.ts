/**
 * AssemblyScript, compiled to pil-bicubic.wasm (`npm run build:wasm`): the two passes of
 * pil-bicubic.ts with 128-bit SIMD, byte-identical to it (same int32 sums, same wrap, same
 * shift and clamp). A pixel's R, G, B (and a fourth byte, ignored) share one i32x4, so one
 * multiply-add serves all three channels; the vertical pass does 16 bytes per step.
 * The caller lays out the buffers in linear memory from heapBase(), padded by 16 bytes, and
 * passes their offsets; nothing here allocates.
 */

const PRECISION_BITS: i32 = 32 - 8 - 2;
const HALF: i32 = 1 << (PRECISION_BITS - 1);

export function heapBase(): usize {
  return __heap_base;
}

/** Clamp four int32 fixed-point sums to bytes (the low four bytes of the result). */
function clip8x4(sum: v128): v128 {
  const shifted = i32x4.shr_s(sum, PRECISION_BITS);
  const words = i16x8.narrow_i32x4_s(shifted, shifted);
  return i8x16.narrow_i16x8_u(words, words);
}

/**
 * Horizontal pass: `rows` RGB24 rows of `inRowBytes` from `src`, each to `width` pixels in `mid`.
 * Taps per output pixel: first input pixel (i32), tap count (i32), `stride` i32 weights.
 */
export function horizontal(
  src: usize,
  inRowBytes: i32,
  rows: i32,
  first: usize,
  count: usize,
  weights: usize,
  stride: i32,
  width: i32,
  mid: usize,
): void {
  const half = i32x4.splat(HALF);
  let out = mid;
  for (let y = 0; y < rows; y++) {
    const row = src + <usize>(y * inRowBytes);
    for (let x = 0; x < width; x++) {
      const n = load<i32>(count + ((<usize>x) << 2));
      let pixel = row + <usize>(load<i32>(first + ((<usize>x) << 2)) * 3);
      let weight = weights + ((<usize>(x * stride)) << 2);
      let sum = half;
      for (let t = 0; t < n; t++) {
        const rgbx = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(pixel)));
        sum = i32x4.add(sum, i32x4.mul(rgbx, i32x4.splat(load<i32>(weight))));
        pixel += 3;
        weight += 4;
      }
      // Four bytes written, the fourth overwritten by the next pixel (or the padding).
      v128.store32_lane(out, clip8x4(sum), 0);
      out += 3;
    }
  }
}

/**
 * Vertical pass: `height` output rows of `rowBytes` into `out`, each a weighted sum of rows of
 * `mid` (row r of mid is input row rowFrom + r).
 */
export function vertical(
  mid: usize,
  rowBytes: i32,
  rowFrom: i32,
  first: usize,
  count: usize,
  weights: usize,
  stride: i32,
  height: i32,
  out: usize,
): void {
  const half = i32x4.splat(HALF);
  for (let y = 0; y < height; y++) {
    const n = load<i32>(count + ((<usize>y) << 2));
    const top = mid + <usize>((load<i32>(first + ((<usize>y) << 2)) - rowFrom) * rowBytes);
    const taps = weights + ((<usize>(y * stride)) << 2);
    const dst = out + <usize>(y * rowBytes);
    for (let i = 0; i < rowBytes; i += 16) {
      let s0 = half;
      let s1 = half;
      let s2 = half;
      let s3 = half;
      let src = top + <usize>i;
      for (let t = 0; t < n; t++) {
        const bytes = v128.load(src);
        const w = i32x4.splat(load<i32>(taps + ((<usize>t) << 2)));
        const low = i16x8.extend_low_i8x16_u(bytes);
        const high = i16x8.extend_high_i8x16_u(bytes);
        s0 = i32x4.add(s0, i32x4.mul(i32x4.extend_low_i16x8_u(low), w));
        s1 = i32x4.add(s1, i32x4.mul(i32x4.extend_high_i16x8_u(low), w));
        s2 = i32x4.add(s2, i32x4.mul(i32x4.extend_low_i16x8_u(high), w));
        s3 = i32x4.add(s3, i32x4.mul(i32x4.extend_high_i16x8_u(high), w));
        src += <usize>rowBytes;
      }
      const a = i16x8.narrow_i32x4_s(
        i32x4.shr_s(s0, PRECISION_BITS),
        i32x4.shr_s(s1, PRECISION_BITS),
      );
      const b = i16x8.narrow_i32x4_s(
        i32x4.shr_s(s2, PRECISION_BITS),
        i32x4.shr_s(s3, PRECISION_BITS),
      );
      v128.store(dst + <usize>i, i8x16.narrow_i16x8_u(a, b));
    }
  }
}
