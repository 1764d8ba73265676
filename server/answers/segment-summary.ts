/** A segment as the dashboard shows it: its level and a coarse log-mel spectrogram. */
import type { SegmentMessage } from '../../shared/protocol/messages.js';
import { vggishLogMel } from '../features/audio/vggish-log-mel.js';
import type { Segment } from '../segments/to-segments.js';

/** Log-mel frames averaged in groups of `every` (98 frames a second → 25). */
export function segmentSummary(stream: string, segment: Segment, every = 4): SegmentMessage {
  let energy = 0;
  for (const v of segment.samples) energy += v * v;
  const mel = vggishLogMel(segment.samples);
  const spectrogram: number[][] = [];
  for (let from = 0; from < mel.rows; from += every) {
    const rows = Math.min(every, mel.rows - from);
    const frame = Array.from({ length: mel.cols }, (_, band) => {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += mel.data[(from + r) * mel.cols + band]!;
      return Math.round((sum / rows) * 10) / 10;
    });
    spectrogram.push(frame);
  }
  const levelDb = 10 * Math.log10(energy / segment.samples.length + 1e-12);
  return {
    type: 'segment',
    stream,
    index: segment.index,
    start: segment.start,
    levelDb: Math.round(levelDb * 10) / 10,
    spectrogram,
  };
}
