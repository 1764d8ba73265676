/**
 * The last W segments' encoder outputs of one stream, in a ring buffer: each segment is encoded
 * once, so the cost of a hop does not grow with the window.
 */
import type { WindowBatch } from '../encoders/qstar-answerer.js';
import type { SegmentFeatures } from '../encoders/segment-encoders.js';

interface Entry {
  readonly index: number;
  readonly start: number;
  readonly features: SegmentFeatures;
}

export class FeatureWindow {
  private readonly entries: Entry[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`window must hold at least one segment, got ${capacity}`);
  }

  push(index: number, start: number, features: SegmentFeatures): void {
    this.entries.push({ index, start, features });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  get size(): number {
    return this.entries.length;
  }

  /** Stream time the window covers, seconds. */
  span(): { start: number; end: number } {
    return { start: this.entries[0]?.start ?? 0, end: (this.entries.at(-1)?.start ?? -1) + 1 };
  }

  /** The window repeated `batch` times (one per standing question), laid out B × T × …. */
  batch(batch: number): WindowBatch {
    return repeatWindow(this.single(), batch);
  }

  /**
   * The window's segments' features, oldest first: what goes to the inference worker, which lays
   * them out as a window there (`layOutWindow`). They are in shared memory (splitFeatures), so
   * sending them copies nothing.
   */
  segments(): SegmentFeatures[] {
    return this.entries.map((entry) => entry.features);
  }

  /** The window laid out once (B = 1), here (tests, benches, the parity bench's heads). */
  single(): WindowBatch {
    return layOutWindow(this.segments());
  }
}

/** Whether a hop's window came as its segments (to lay out) rather than laid out already. */
export function isSegmentList(
  window: WindowBatch | readonly SegmentFeatures[],
): window is readonly SegmentFeatures[] {
  return Array.isArray(window);
}

/**
 * Segments' features (oldest first) laid out as one window (B = 1, T × …), in arrays from `take`
 * (memory used before may hold another window: every value is written). Stereo only where every
 * segment has it: otherwise the head hears the window as mono.
 */
export function layOutWindow(
  segments: readonly SegmentFeatures[],
  take: (length: number) => Float32Array = (length) => new Float32Array(length),
): WindowBatch {
  const f = segments[0];
  if (!f) throw new Error('the window holds no segments yet');
  const gather = (pick: (features: SegmentFeatures) => Float32Array) => {
    const per = pick(f).length;
    const one = take(segments.length * per);
    segments.forEach((features, t) => {
      const values = pick(features);
      if (values.length !== per)
        throw new Error(`segment ${t} of the window has ${values.length} values, not ${per}`);
      one.set(values, t * per);
    });
    return one;
  };
  return {
    batch: 1,
    segments: segments.length,
    frames: gather((x) => x.frame.data),
    patches: gather((x) => x.patches.data),
    audio: gather((x) => x.audio.data),
    ast: gather((x) => x.ast.data),
    segmentMask: new Uint8Array(segments.length).fill(1),
    ...(segments.every((features) => features.stereo) && {
      stereo: gather((x) => x.stereo!.data),
    }),
    dims: {
      frame: f.frame.dims[1]!,
      patches: f.patches.dims[1]!,
      patch: f.patches.dims[2]!,
      audio: f.audio.dims[1]!,
      bands: f.ast.dims[1]!,
      ast: f.ast.dims[2]!,
    },
  };
}

/** One window (B = 1) repeated `batch` times, laid out B × T × …; `batch` 1 returns it as it is. */
export function repeatWindow(window: WindowBatch, batch: number): WindowBatch {
  if (window.batch !== 1) throw new Error(`only a single window repeats, not ${window.batch}`);
  return batch === 1 ? window : gatherWindows(window, Array<number>(batch).fill(0));
}

/**
 * The windows `rows` name, in that order (rows may repeat a window): what a head exported before
 * heads gathered windows themselves (`window_of`, export.py windows-once) needs, one per question.
 */
export function gatherWindows(windows: WindowBatch, rows: readonly number[]): WindowBatch {
  const gather = <T extends Float32Array | Uint8Array>(values: T, make: (n: number) => T): T => {
    const per = values.length / windows.batch;
    const out = make(rows.length * per);
    rows.forEach((row, b) => out.set(values.subarray(row * per, (row + 1) * per), b * per));
    return out;
  };
  const floats = (values: Float32Array) => gather(values, (n) => new Float32Array(n));
  return {
    ...windows,
    batch: rows.length,
    frames: floats(windows.frames),
    patches: floats(windows.patches),
    audio: floats(windows.audio),
    ast: floats(windows.ast),
    segmentMask: gather(windows.segmentMask, (n) => new Uint8Array(n)),
    ...(windows.stereo && { stereo: floats(windows.stereo) }),
  };
}
