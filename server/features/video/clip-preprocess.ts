/**
 * CLIP's image preprocessing (torchvision Resize(size, BICUBIC) → CenterCrop(size) → ToTensor →
 * Normalize(mean, std)) on an RGB24 frame, giving NCHW float32 (3 × size × size).
 */
import { pilBicubicResizeWindow } from './pil-bicubic.js';
import { assertRgbFrame, VideoInputError, type RgbFrame } from './rgb-frame.js';

export interface ImagePreprocessing {
  readonly size: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** OpenAI CLIP (ViT-B/32, ViT-L/14 at 224). Other sizes come from a model manifest. */
export const CLIP_PREPROCESSING: ImagePreprocessing = {
  size: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** Python's round(): halves go to the even neighbour (torchvision's crop offsets use it). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Shorter side to `size` (the longer truncated, as torchvision does), then the centred square. */
export function resizeCropWindow(width: number, height: number, size: number) {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  const [outWidth, outHeight] = width <= height ? [size, newLong] : [newLong, size];
  return {
    outWidth,
    outHeight,
    left: roundHalfEven((outWidth - size) / 2),
    top: roundHalfEven((outHeight - size) / 2),
    width: size,
    height: size,
  };
}

/** The resized, centre-cropped frame as RGB24 (size × size × 3): what CLIP's ToTensor reads. */
export function clipPixels(frame: RgbFrame, size = CLIP_PREPROCESSING.size): Uint8Array {
  assertRgbFrame(frame);
  if (!Number.isInteger(size) || size <= 0)
    throw new VideoInputError(`crop size must be a positive integer, got ${size}`);
  return pilBicubicResizeWindow(
    frame.data,
    frame.width,
    frame.height,
    resizeCropWindow(frame.width, frame.height, size),
  );
}

/**
 * RGB24 (height × width × 3; square `spec.size` by default) → NCHW float32, (v/255 − mean) / std
 * per channel, via a per-channel table.
 */
export function normalisePixels(
  pixels: Uint8Array,
  spec: ImagePreprocessing = CLIP_PREPROCESSING,
  width = spec.size,
  height = spec.size,
): Float32Array {
  const plane = width * height;
  if (pixels.length !== plane * 3) {
    throw new VideoInputError(
      `expected ${plane * 3} bytes for a ${width}×${height} RGB image, got ${pixels.length}`,
    );
  }
  const tables = [0, 1, 2].map((c) =>
    Float32Array.from(
      { length: 256 },
      (_, v) => (Math.fround(v / 255) - spec.mean[c]!) / spec.std[c]!,
    ),
  ) as [Float32Array, Float32Array, Float32Array];
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    out[p] = tables[0][pixels[p * 3]!]!;
    out[plane + p] = tables[1][pixels[p * 3 + 1]!]!;
    out[2 * plane + p] = tables[2][pixels[p * 3 + 2]!]!;
  }
  return out;
}

export function clipPreprocess(
  frame: RgbFrame,
  spec: ImagePreprocessing = CLIP_PREPROCESSING,
): Float32Array {
  return normalisePixels(clipPixels(frame, spec.size), spec);
}
