/** A segment as the dashboard shows it: its level and a coarse log-mel spectrogram. */
import type { SegmentMessage } from '../../shared/protocol/messages.js';
import type { Segment } from '../segments/to-segments.js';

/**
 * Log-mel frames (rows × bands, row-major) averaged in groups of `every` rows (96 frames a
 * second → 24), rounded to 0.1 dB: small enough to send every second.
 */
export function coarseSpectrogram(logMel: Float32Array, bands: number, every = 4): number[][] {
  const rows = logMel.length / bands;
  const spectrogram: number[][] = [];
  for (let from = 0; from < rows; from += every) {
    const group = Math.min(every, rows - from);
    spectrogram.push(
      Array.from({ length: bands }, (_, band) => {
        let sum = 0;
        for (let r = 0; r < group; r++) sum += logMel[(from + r) * bands + band]!;
        return Math.round((sum / group) * 10) / 10;
      }),
    );
  }
  return spectrogram;
}

/** RMS level of samples in dBFS, to 0.1 dB. */
export function levelDb(samples: Float32Array): number {
  let energy = 0;
  for (const v of samples) energy += v * v;
  return Math.round(10 * Math.log10(energy / samples.length + 1e-12) * 10) / 10;
}

/** `spectrogram`: the worker's coarse log-mel of this segment (it computed the log-mel anyway). */
export function segmentSummary(
  stream: string,
  segment: Segment,
  spectrogram: number[][],
): SegmentMessage {
  return {
    type: 'segment',
    stream,
    index: segment.index,
    start: segment.start,
    levelDb: levelDb(segment.samples),
    spectrogram,
  };
}
