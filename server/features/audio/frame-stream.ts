/**
 * Cuts audio into overlapping frames (window `length`, step `hop`, no partial frames: Kaldi's
 * snip_edges=True and numpy's framing) and turns each into a feature row. Samples that do not
 * yet fill a frame are carried over to the next push, so any chunking of a signal gives exactly
 * the rows one push of the whole signal gives.
 */
import { AudioInputError, assertFiniteSamples } from './audio-input-error.js';
import type { FeatureMatrix } from './feature-matrix.js';

export interface FrameTransform {
  /** Window length and step in samples. */
  readonly length: number;
  readonly hop: number;
  /** Feature values per frame. */
  readonly cols: number;
  /** Writes the features of `frame` (exactly `length` samples) to out[0 … cols). */
  apply(frame: Float64Array, out: Float32Array): void;
}

export class FrameStream {
  private pending = new Float64Array(0);
  private readonly frame: Float64Array;

  constructor(private readonly transform: FrameTransform) {
    this.frame = new Float64Array(transform.length);
  }

  /** Rows for every frame completed by `chunk`; an empty chunk yields none. */
  push(chunk: ArrayLike<number>): FeatureMatrix {
    assertFiniteSamples(chunk, 'audio chunk');
    const { length, hop, cols } = this.transform;
    const samples = new Float64Array(this.pending.length + chunk.length);
    samples.set(this.pending);
    samples.set(chunk, this.pending.length);

    const rows = samples.length < length ? 0 : 1 + Math.floor((samples.length - length) / hop);
    const data = new Float32Array(rows * cols);
    for (let row = 0; row < rows; row++) {
      this.frame.set(samples.subarray(row * hop, row * hop + length));
      this.transform.apply(this.frame, data.subarray(row * cols, (row + 1) * cols));
    }
    this.pending = samples.slice(rows * hop);
    return { rows, cols, data };
  }
}

/** All rows of a whole signal; refuses signals too short for one frame. */
export function framesOf(
  samples: ArrayLike<number>,
  transform: FrameTransform,
  what: string,
): FeatureMatrix {
  if (samples.length < transform.length) {
    throw new AudioInputError(
      `${what}: ${samples.length} samples is too short; one frame needs ${transform.length}`,
    );
  }
  return new FrameStream(transform).push(samples);
}
