/** Messages between the monitor and its inference worker thread. */
import type { Answered, WindowBatch } from './qstar-answerer.js';
import type { SegmentFeatures } from './segment-encoders.js';
import type { ExecutionProvider } from './onnx-model.js';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import type { Channels } from '../sources/media-file-source.js';

export interface WorkerInit {
  readonly profile: string;
  readonly variant: string;
  readonly threads?: number;
  /** Most segments one encoder call takes (default 32). */
  readonly maxBatch?: number;
}

export type WorkerRequest =
  | {
      readonly id: number;
      readonly kind: 'encode';
      readonly samples: Float32Array;
      readonly frame: RgbFrame;
      /** Left and right, where the source has them: their band power goes with the features. */
      readonly channels?: Channels;
    }
  | {
      readonly id: number;
      readonly kind: 'answer';
      /**
       * The window's segments, oldest first (the worker lays them out as a window: the monitor's
       * thread copies nothing); or a window already laid out, once (B = 1; the head gathers it
       * per question) or one per question.
       */
      readonly window: WindowBatch | readonly SegmentFeatures[];
      readonly questions: number[][];
    };

export type WorkerReply =
  | {
      readonly kind: 'ready';
      readonly provider: ExecutionProvider;
      readonly profile: string;
      /** Where the audio front-end runs: "typescript" or "graph on <provider>". */
      readonly audioFrontend: string;
      /** Where frames are prepared, likewise (TUTTI_PICTURES_FRONTEND). */
      readonly picturesFrontend: string;
    }
  | { readonly kind: 'failed'; readonly message: string }
  | {
      readonly id: number;
      readonly kind: 'encoded';
      readonly features: SegmentFeatures;
      /** The segment's log-mel, coarsened for the dashboard (see coarseSpectrogram). */
      readonly spectrogram: number[][];
    }
  | { readonly id: number; readonly kind: 'answered'; readonly answered: Answered }
  | { readonly id: number; readonly kind: 'error'; readonly message: string };

/**
 * The distinct buffers under these arrays, to move them to the other thread instead of copying
 * (a buffer listed twice cannot be transferred). Shared memory is left out: it is not moved but
 * seen by both threads.
 */
export function distinctBuffers(arrays: readonly (ArrayBufferView | undefined)[]): ArrayBuffer[] {
  const movable = (array: ArrayBufferView | undefined): array is ArrayBufferView =>
    array !== undefined && !(array.buffer instanceof SharedArrayBuffer);
  return [...new Set(arrays.filter(movable).map((array) => array.buffer as ArrayBuffer))];
}
