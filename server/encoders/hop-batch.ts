/**
 * Several streams' hops as one head call: their windows, each once, stacked along the batch axis
 * with the window each question reads, and the answers split back. On a GPU a head call of one
 * stream's 4 questions leaves the chip mostly idle (12 ms a hop on an H100 with the paper
 * profile, README "GPU"), as one encoder call of one segment does. Only windows of one length and
 * shape go together.
 */
import { concatBytes, concatFloats } from '../features/concatenate.js';
import { stereoOrMono, type Answered, type WindowBatch } from './qstar-answerer.js';

export interface Hop {
  /** The window once (B = 1), or already one per question. */
  readonly window: WindowBatch;
  readonly questions: number[][];
}

/** Hops whose windows can share a call: the same segments and feature sizes. */
export function hopShape(hop: Hop): string {
  return JSON.stringify([hop.window.segments, hop.window.dims]);
}

/** A hop's window is one per question, or once; and its arrays hold what its dims say. */
export function assertHop({ window, questions }: Hop): void {
  if (questions.length === 0) throw new Error('a hop needs at least one question');
  if (window.batch !== 1 && window.batch !== questions.length)
    throw new Error(`${questions.length} questions for ${window.batch} windows`);
  const { batch, segments, dims } = window;
  const expected = {
    frames: dims.frame,
    patches: dims.patches * dims.patch,
    audio: dims.audio,
    ast: dims.bands * dims.ast,
  };
  for (const [name, per] of Object.entries(expected)) {
    const length = window[name as keyof typeof expected].length;
    if (length !== batch * segments * per)
      throw new Error(`a window's ${name} hold ${length} values, not ${batch * segments * per}`);
  }
}

/**
 * Hops of one shape → one batch of their windows, each as the hop sent it (once, or one per
 * question), and which of them each question reads (`windowOf`): the head gathers them itself.
 */
export function joinHops(hops: readonly Hop[]): {
  windows: WindowBatch;
  questions: number[][];
  windowOf: number[];
  rows: number[];
} {
  const first = hops[0];
  if (!first) throw new Error('no hops to join');
  const windows = hops.map((hop) => hop.window);
  let offset = 0;
  const windowOf = hops.flatMap(({ window, questions }) => {
    const read = questions.map((_, q) => offset + (window.batch === 1 ? 0 : q));
    offset += window.batch;
    return read;
  });
  const only = windows.length === 1 ? windows[0] : undefined; // one hop: no copy
  return {
    windows: only ?? {
      batch: offset,
      segments: first.window.segments,
      dims: first.window.dims,
      frames: concatFloats(windows.map((w) => w.frames)),
      patches: concatFloats(windows.map((w) => w.patches)),
      audio: concatFloats(windows.map((w) => w.audio)),
      ast: concatFloats(windows.map((w) => w.ast)),
      segmentMask: concatBytes(windows.map((w) => w.segmentMask)),
      // A mono hop's stereo is zeros, as when it is answered alone: its window stays mono and
      // the stereo hops beside it keep theirs.
      ...(windows.some((w) => w.stereo) && { stereo: concatFloats(windows.map(stereoOrMono)) }),
    },
    questions: hops.flatMap((hop) => hop.questions),
    windowOf,
    rows: hops.map((hop) => hop.questions.length),
  };
}

/** One head call's answers → each hop's, `rows[i]` questions each, in order. */
export function splitAnswered(answered: Answered, rows: readonly number[]): Answered[] {
  if (rows.length === 1) return [answered]; // one hop (TUTTI_HOP_BATCH=1): no copy
  const total = rows.reduce((n, r) => n + r, 0);
  const slicer = (values: Float32Array) => {
    const per = values.length / total;
    let at = 0;
    return rows.map((r) => values.slice(per * at, per * (at += r)));
  };
  const [probabilities, frequency, spatial, temporal] = [
    answered.probabilities,
    answered.frequency,
    answered.spatial,
    answered.temporal,
  ].map(slicer);
  return rows.map((_, i) => ({
    probabilities: probabilities![i]!,
    frequency: frequency![i]!,
    spatial: spatial![i]!,
    temporal: temporal![i]!,
  }));
}
