/**
 * Pillow's antialiased bicubic resampling (Image.resize(..., BICUBIC), libImaging/Resample.c)
 * for 8-bit RGB, reproduced to the byte: the same filter (a = −0.5) widened by the downscale
 * factor, the same 22-bit fixed-point weights, a horizontal pass rounded to 8 bits, then a
 * vertical pass. CLIP was trained on images resized this way, so matching it avoids a skew.
 * Only a window of the output is computed (what a centre crop keeps).
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Fixed-point taps for output positions [from, from + count) of an inSize → outSize resize. */
interface Taps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly stride: number;
  readonly weights: Int32Array;
}

function taps(inSize: number, outSize: number, from: number, count: number): Taps {
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
function clip8(sum: number): number {
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

/** RGB24 → RGB24 of window.width × window.height, byte-identical to Pillow's resize then crop. */
export function pilBicubicResizeWindow(
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
