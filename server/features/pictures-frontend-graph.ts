/**
 * The picture front-end (Pillow's bicubic resize, the crop, CLIP's normalisation) as an ONNX
 * graph (models/frontend/pictures-frontend.onnx, `models/qstar/export.py frontend`), for a batch
 * of frames of one size on an execution provider. The resize's fixed-point taps come from
 * pil-bicubic-taps.ts as dense matrices; in float64 the graph gives Pillow's bytes. On a CPU the
 * TypeScript SIMD path (segmentPixels) is much cheaper: this one is for accelerators.
 */
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import {
  loadModel,
  tensor,
  type ExecutionProvider,
  type LoadOptions,
} from '../encoders/onnx-model.js';
import type { ModelManifest } from '../encoders/model-manifest.js';
import { groupIndices } from '../encoders/batch-queue.js';
import { concatBytes } from './concatenate.js';
import { pixelWindow } from './segment-frontend.js';
import { ONE, taps } from './video/pil-bicubic-taps.js';
import { assertRgbFrame, VideoInputError, type RgbFrame } from './video/rgb-frame.js';

export const PICTURES_FRONTEND_GRAPH = fileURLToPath(
  new URL('../../models/frontend/pictures-frontend.onnx', import.meta.url),
);

/** One axis's taps as a dense (count × inSize) matrix of the fixed-point weights / 2^22. */
function denseTaps(inSize: number, outSize: number, from: number, count: number): Float64Array {
  const { first, count: counts, stride, weights } = taps(inSize, outSize, from, count);
  const dense = new Float64Array(count * inSize);
  for (let i = 0; i < count; i++)
    for (let t = 0; t < counts[i]!; t++)
      dense[i * inSize + first[i]! + t] = weights[i * stride + t]! / ONE;
  return dense;
}

export class PicturesFrontendGraph {
  private readonly matrices = new Map<string, [ort.Tensor, ort.Tensor]>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProvider,
  ) {}

  static async load(options: LoadOptions = {}, file = PICTURES_FRONTEND_GRAPH) {
    const { session, provider } = await loadModel(file, options);
    return new PicturesFrontendGraph(session, provider);
  }

  /** Frames of any sizes → the encoder's input in their order: one graph call per size. */
  async runMixed(
    frames: readonly RgbFrame[],
    spec: ModelManifest['frontend'],
  ): Promise<Float32Array> {
    const plane = 3 * spec.frameWidth * spec.frameHeight;
    const images = new Float32Array(frames.length * plane);
    for (const indices of groupIndices(frames, (frame) => `${frame.width}×${frame.height}`)) {
      const prepared = await this.run(
        indices.map((i) => frames[i]!),
        spec,
      );
      indices.forEach((i, k) =>
        images.set(prepared.subarray(k * plane, (k + 1) * plane), i * plane),
      );
    }
    return images;
  }

  /** Frames of one size → the encoder's input, batch × 3 × frameHeight × frameWidth. */
  async run(frames: readonly RgbFrame[], spec: ModelManifest['frontend']): Promise<Float32Array> {
    const [first] = frames;
    if (!first) throw new VideoInputError('no frames to prepare');
    frames.forEach(assertRgbFrame);
    const { width, height } = first;
    if (frames.some((frame) => frame.width !== width || frame.height !== height))
      throw new VideoInputError(
        `a batch of frames must share one size (the first is ${width}×${height})`,
      );
    const [horizontal, vertical] = this.resizeMatrices(first, spec);
    const pixels = concatBytes(frames.map((frame) => frame.data));
    const out = await this.session.run({
      pixels: new ort.Tensor('uint8', pixels, [frames.length, height, width, 3]),
      horizontal,
      vertical,
      mean: tensor(Float32Array.from(spec.mean), [3]),
      std: tensor(Float32Array.from(spec.std), [3]),
    });
    return out['image']!.data as Float32Array;
  }

  private resizeMatrices(frame: RgbFrame, spec: ModelManifest['frontend']) {
    const key = `${frame.width}×${frame.height}→${spec.frameWidth}×${spec.frameHeight} ${spec.frameResize}`;
    let matrices = this.matrices.get(key);
    if (!matrices) {
      const window = pixelWindow(frame, spec);
      matrices = [
        new ort.Tensor(
          'float64',
          denseTaps(frame.width, window.outWidth, window.left, window.width),
          [window.width, frame.width],
        ),
        new ort.Tensor(
          'float64',
          denseTaps(frame.height, window.outHeight, window.top, window.height),
          [window.height, frame.height],
        ),
      ];
      this.matrices.set(key, matrices);
    }
    return matrices;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
