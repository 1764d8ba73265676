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
    const first = this.entries[0];
    if (!first) throw new Error('the window holds no segments yet');
    const f = first.features;
    const dims = {
      frame: f.frame.dims[1]!,
      patches: f.patches.dims[1]!,
      patch: f.patches.dims[2]!,
      audio: f.audio.dims[1]!,
      bands: f.ast.dims[1]!,
      ast: f.ast.dims[2]!,
    };
    const segments = this.entries.length;
    const gather = (pick: (features: SegmentFeatures) => Float32Array) => {
      const per = pick(f).length;
      const one = new Float32Array(segments * per);
      this.entries.forEach((entry, t) => one.set(pick(entry.features), t * per));
      const all = new Float32Array(batch * one.length);
      for (let b = 0; b < batch; b++) all.set(one, b * one.length);
      return all;
    };
    return {
      batch,
      segments,
      frames: gather((x) => x.frame.data),
      patches: gather((x) => x.patches.data),
      audio: gather((x) => x.audio.data),
      ast: gather((x) => x.ast.data),
      segmentMask: new Uint8Array(batch * segments).fill(1),
      dims,
    };
  }
}
