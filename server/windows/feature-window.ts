/**
 * The last W segments' encoder outputs of one stream, in a ring buffer: each segment is encoded
 * once, so the cost of a hop does not grow with the window.
 */
import type { WindowBatch } from '../encoders/qstar-answerer.js';
import type { SegmentFeatures } from '../encoders/segment-encoders.js';
import { windowBuffers, type WindowBuffers } from './window-buffers.js';

interface Entry {
  readonly index: number;
  readonly start: number;
  readonly features: SegmentFeatures;
}

export class FeatureWindow {
  private readonly entries: Entry[] = [];

  /** `buffers`: where `single` takes its arrays' memory (what inference workers handed back). */
  constructor(
    readonly capacity: number,
    private readonly buffers: WindowBuffers = windowBuffers,
  ) {
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
   * The window once (B = 1): what goes to the inference worker, which repeats it per question
   * there; sending it repeated cost a copy per question both ways (42 MB a hop with CLIP's patches).
   */
  single(): WindowBatch {
    const first = this.entries[0];
    if (!first) throw new Error('the window holds no segments yet');
    const f = first.features;
    const segments = this.entries.length;
    const gather = (pick: (features: SegmentFeatures) => Float32Array) => {
      const per = pick(f).length;
      // Memory used before may hold another window: every value is written below.
      const one = this.buffers.take(segments * per);
      this.entries.forEach((entry, t) => one.set(pick(entry.features), t * per));
      return one;
    };
    return {
      batch: 1,
      segments,
      frames: gather((x) => x.frame.data),
      patches: gather((x) => x.patches.data),
      audio: gather((x) => x.audio.data),
      ast: gather((x) => x.ast.data),
      segmentMask: new Uint8Array(segments).fill(1),
      // Where a segment has no stereo (a mono source), none: the head hears the window as mono.
      ...(this.entries.every((entry) => entry.features.stereo) && {
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
