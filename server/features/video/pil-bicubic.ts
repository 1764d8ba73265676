/**
 * Pillow's antialiased bicubic resampling (Image.resize(..., BICUBIC), libImaging/Resample.c)
 * for 8-bit RGB, reproduced to the byte: the same filter (a = −0.5) widened by the downscale
 * factor, the same 22-bit fixed-point weights, a horizontal pass rounded to 8 bits, then a
 * vertical pass. CLIP was trained on images resized this way, so matching it avoids a skew.
 * Only a window of the output is computed (what a centre crop keeps). This scalar version is
 * the reference; pilBicubicResizeWindow runs the SIMD kernel whenever both axes are resized.
 */
import { pilBicubicResizeWindowSimd } from './pil-bicubic-simd.js';
import { clip8, HALF, taps, type ResizeWindow } from './pil-bicubic-taps.js';

export type { ResizeWindow } from './pil-bicubic-taps.js';

/** RGB24 → RGB24 of window.width × window.height, byte-identical to Pillow's resize then crop. */
export function pilBicubicResizeWindow(
  rgb: Uint8Array,
  inWidth: number,
  inHeight: number,
  window: ResizeWindow,
): Uint8Array {
  const both = window.outWidth !== inWidth && window.outHeight !== inHeight;
  return (both ? pilBicubicResizeWindowSimd : pilBicubicResizeWindowScalar)(
    rgb,
    inWidth,
    inHeight,
    window,
  );
}

/** The same bytes in plain TypeScript, one channel at a time. */
export function pilBicubicResizeWindowScalar(
  rgb: Uint8Array,
  inWidth: number,
  inHeight: number,
  window: ResizeWindow,
): Uint8Array {
  const horizontal = taps(inWidth, window.outWidth, window.left, window.width);
  const vertical = taps(inHeight, window.outHeight, window.top, window.height);
  const needH = window.outWidth !== inWidth;
  const needV = window.outHeight !== inHeight;

  // Rows of the input the vertical pass reads.
  const rowFrom = needV ? vertical.first[0]! : window.top;
  const rowTo = needV
    ? vertical.first[window.height - 1]! + vertical.count[window.height - 1]!
    : window.top + window.height;

  // Horizontal pass over those rows only, into 8-bit, as Pillow stores its intermediate.
  const rowBytes = window.width * 3;
  const mid = new Uint8Array((rowTo - rowFrom) * rowBytes);
  const { first: hFirst, count: hCount, stride: hStride, weights: hWeights } = horizontal;
  for (let y = rowFrom; y < rowTo; y++) {
    const inRow = y * inWidth * 3;
    let out = (y - rowFrom) * rowBytes;
    if (!needH) {
      mid.set(rgb.subarray(inRow + window.left * 3, inRow + window.left * 3 + rowBytes), out);
      continue;
    }
    for (let x = 0; x < window.width; x++, out += 3) {
      const n = hCount[x]!;
      const k = x * hStride;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      // Int32 arithmetic like Pillow's: 8-bit × 22-bit weights summed stay inside 32 bits.
      for (let t = 0, src = inRow + hFirst[x]! * 3; t < n; t++, src += 3) {
        const w = hWeights[k + t]!;
        r = (r + Math.imul(rgb[src]!, w)) | 0;
        g = (g + Math.imul(rgb[src + 1]!, w)) | 0;
        b = (b + Math.imul(rgb[src + 2]!, w)) | 0;
      }
      mid[out] = clip8(r);
      mid[out + 1] = clip8(g);
      mid[out + 2] = clip8(b);
    }
  }
  if (!needV) return mid;

  // Vertical pass a whole output row at a time, reading the intermediate sequentially.
  const out = new Uint8Array(window.height * rowBytes);
  const sums = new Int32Array(rowBytes);
  const { first: vFirst, count: vCount, stride: vStride, weights: vWeights } = vertical;
  for (let y = 0; y < window.height; y++) {
    sums.fill(HALF);
    for (let t = 0; t < vCount[y]!; t++) {
      const w = vWeights[y * vStride + t]!;
      const src = (vFirst[y]! - rowFrom + t) * rowBytes;
      for (let i = 0; i < rowBytes; i++) sums[i] = (sums[i]! + Math.imul(mid[src + i]!, w)) | 0;
    }
    const dst = y * rowBytes;
    for (let i = 0; i < rowBytes; i++) out[dst + i] = clip8(sums[i]!);
  }
  return out;
}
