/**
 * A profile's frozen encoders over a batch of one-second segments' front-end outputs: AST tokens
 * (N × F × d), audio clip embeddings (N × d), frame embeddings (N × d) and patch tokens
 * (N × P × d).
 */
import path from 'node:path';
import { concatBytes, concatFloats } from '../features/concatenate.js';
import { normalisePixels } from '../features/video/clip-preprocess.js';
import type { SegmentFrontend } from '../features/segment-frontend.js';
import { STEREO_BANDS, STEREO_CHANNELS } from '../features/audio/stereo-bands.js';
import type { ModelManifest } from './model-manifest.js';
import { loadModel, tensor, type ExecutionProvider, type LoadOptions } from './onnx-model.js';
import type ort from 'onnxruntime-node';

export interface SegmentBatch {
  readonly count: number;
  /** count × astFrames × 128 */
  readonly fbank: Float32Array;
  /** count × 96 × 64 */
  readonly logMel: Float32Array;
  /** count × frameHeight × frameWidth × 3 bytes; or, from the pictures graph, `images` */
  readonly pixels?: Uint8Array;
  /** count × 3 × frameHeight × frameWidth, normalised: the encoder's input as it is. */
  readonly images?: Float32Array;
}

export interface EncodedTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface SegmentFeatures {
  readonly ast: EncodedTensor;
  readonly audio: EncodedTensor;
  readonly frame: EncodedTensor;
  readonly patches: EncodedTensor;
  /** 1 × 2 × 64 band power per channel (stereo-bands.ts), beside the encoders' outputs. */
  readonly stereo?: EncodedTensor;
}

/** A segment's features with its band power per channel beside them, when it has any. */
export function withStereo(features: SegmentFeatures, bands?: Float32Array): SegmentFeatures {
  if (!bands) return features;
  return { ...features, stereo: { data: bands, dims: [1, STEREO_CHANNELS, STEREO_BANDS] } };
}

/** Segments' front-end outputs stacked into one batch (item i at index i). */
export function stackSegments(segments: readonly SegmentFrontend[]): SegmentBatch {
  return {
    count: segments.length,
    fbank: concatFloats(segments.map((s) => s.fbank)),
    logMel: concatFloats(segments.map((s) => s.logMel)),
    pixels: concatBytes(segments.map((s) => s.pixels)),
  };
}

/**
 * A batch's features, one SegmentFeatures (batch dimension 1) per item, each in memory other
 * threads share: the monitor keeps a segment for the ten hops whose windows hold it, and each
 * hop's worker reads it there, so no thread copies it into a window message (a paper window is
 * 10.9 MB: copying them bounded the monitor near 200 streams, README "What the monitor's side
 * alone carries").
 */
export function splitFeatures(features: SegmentFeatures, count: number): SegmentFeatures[] {
  const item = (t: EncodedTensor, i: number): EncodedTensor => {
    const size = t.data.length / count;
    const data = new Float32Array(new SharedArrayBuffer(size * Float32Array.BYTES_PER_ELEMENT));
    data.set(t.data.subarray(i * size, (i + 1) * size));
    return { data, dims: [1, ...t.dims.slice(1)] };
  };
  return Array.from({ length: count }, (_, i) => ({
    ast: item(features.ast, i),
    audio: item(features.audio, i),
    frame: item(features.frame, i),
    patches: item(features.patches, i),
  }));
}

const encoded = (value: ort.Tensor): EncodedTensor => ({
  data: value.data as Float32Array,
  dims: value.dims,
});

export class SegmentEncoders {
  private constructor(
    private readonly manifest: ModelManifest,
    private readonly sessions: {
      ast: ort.InferenceSession;
      audio: ort.InferenceSession;
      frame: ort.InferenceSession;
    },
    readonly provider: ExecutionProvider,
  ) {}

  static async load(manifest: ModelManifest, options: LoadOptions = {}): Promise<SegmentEncoders> {
    const load = (name: string) => loadModel(path.join(manifest.directory, name), options);
    const [ast, audio, frame] = await Promise.all([
      load(manifest.encoders.ast),
      load(manifest.encoders.audio),
      load(manifest.encoders.frame),
    ]);
    return new SegmentEncoders(
      manifest,
      { ast: ast.session, audio: audio.session, frame: frame.session },
      ast.provider,
    );
  }

  async encode(batch: SegmentBatch): Promise<SegmentFeatures> {
    const { frontend } = this.manifest;
    const { count } = batch;
    const images = batch.images ?? this.normalise(batch);
    const [ast, audio, frame] = await Promise.all([
      this.sessions.ast.run({ fbank: tensor(batch.fbank, [count, frontend.astFrames, 128]) }),
      this.sessions.audio.run({ logmel: tensor(batch.logMel, [count, 96, 64]) }),
      this.sessions.frame.run({
        image: tensor(images, [count, 3, frontend.frameHeight, frontend.frameWidth]),
      }),
    ]);
    return {
      ast: encoded(ast['tokens']!),
      audio: encoded(audio['embedding']!),
      frame: encoded(frame['embedding']!),
      patches: encoded(frame['patches']!),
    };
  }

  /** Bytes (count × H × W × 3) → the encoder's normalised input (count × 3 × H × W). */
  private normalise(batch: SegmentBatch): Float32Array {
    const { frontend } = this.manifest;
    const { count, pixels } = batch;
    if (!pixels) throw new Error('a segment batch needs its pixels or its images');
    const plane = frontend.frameWidth * frontend.frameHeight;
    const images = new Float32Array(count * 3 * plane);
    for (let i = 0; i < count; i++)
      images.set(
        normalisePixels(
          pixels.subarray(i * plane * 3, (i + 1) * plane * 3),
          { size: 0, mean: frontend.mean, std: frontend.std },
          frontend.frameWidth,
          frontend.frameHeight,
        ),
        i * 3 * plane,
      );
    return images;
  }

  async release(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((session) => session.release()));
  }
}
