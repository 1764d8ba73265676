/**
 * The audio front-end (AST's fbank, VGGish's log-mel) as an ONNX graph run by an execution
 * provider on a batch of segments (models/frontend/audio-frontend.onnx, made by
 * `models/qstar/export.py frontend`): the accelerator's path. The TypeScript front-end
 * (segment-frontend.ts) stays the reference and the CPU path; test/onnx-frontend.test.ts holds
 * the two within stated tolerances.
 */
import { fileURLToPath } from 'node:url';
import type ort from 'onnxruntime-node';
import {
  loadModel,
  tensor,
  type ExecutionProvider,
  type LoadOptions,
} from '../encoders/onnx-model.js';
import { concatFloats } from './concatenate.js';
import { SEGMENT_SAMPLES, segmentAudio } from './segment-frontend.js';

export const AUDIO_FRONTEND_GRAPH = fileURLToPath(
  new URL('../../models/frontend/audio-frontend.onnx', import.meta.url),
);

/** AST frames per segment the graph gives (both shipped profiles'). */
export const AUDIO_GRAPH_AST_FRAMES = 100;

export interface AudioFrontendBatch {
  /** count × astFrames × 128, AST-normalised, as segmentFrontend's fbank. */
  readonly fbank: Float32Array;
  /** count × 96 × 64, as segmentFrontend's logMel. */
  readonly logMel: Float32Array;
}

export class AudioFrontendGraph {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProvider,
  ) {}

  static async load(options: LoadOptions = {}, file = AUDIO_FRONTEND_GRAPH) {
    const { session, provider } = await loadModel(file, options);
    return new AudioFrontendGraph(session, provider);
  }

  /** `samples`: count segments of 16 kHz audio, one after another (count × 16000). */
  async run(samples: Float32Array, count: number): Promise<AudioFrontendBatch> {
    if (samples.length !== count * SEGMENT_SAMPLES)
      throw new RangeError(
        `${count} segments need ${count * SEGMENT_SAMPLES} samples, got ${samples.length}`,
      );
    const out = await this.session.run({ samples: tensor(samples, [count, SEGMENT_SAMPLES]) });
    return {
      fbank: out['fbank']!.data as Float32Array,
      logMel: out['logmel']!.data as Float32Array,
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * Where the audio front-end runs: `graph` on the encoders' provider, batched across streams, or
 * `typescript` a segment at a time. TUTTI_FRONTEND=auto|typescript|graph; auto takes the graph
 * (measured faster on this CPU too: README, "Front-end speed").
 */
export function audioFrontendChoice(value = process.env['TUTTI_FRONTEND'] ?? 'auto') {
  if (value === 'auto' || value === 'graph') return 'graph' as const;
  if (value === 'typescript') return 'typescript' as const;
  throw new Error(`TUTTI_FRONTEND must be auto, typescript or graph, not "${value}"`);
}

/** The TypeScript front-end over a batch, in the graph's layout (the reference path). */
export function typescriptAudioFrontend(
  samples: readonly Float32Array[],
  astFrames: number,
): AudioFrontendBatch {
  const segments = samples.map((segment) => segmentAudio(segment, astFrames));
  return {
    fbank: concatFloats(segments.map((s) => s.fbank)),
    logMel: concatFloats(segments.map((s) => s.logMel)),
  };
}
