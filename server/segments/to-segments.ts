/**
 * RxJS operator: timestamped audio chunks and frames → one-second segments, each with its 16 000
 * samples and the frame nearest its middle. Audio and video are matched by timestamp, whichever
 * arrives first; a segment waits for its frame at most `maxFrameLagSeconds` of audio, then takes
 * the latest frame there is (a stalled camera must not stall the answers). Where the source gives
 * both channels, a segment carries them too (a chunk without them counts as centred: left = right).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { BLACK_FRAME, type RgbFrame } from '../features/video/rgb-frame.js';
import {
  SOURCE_SAMPLE_RATE,
  type Channels,
  type SourceEvent,
} from '../sources/media-file-source.js';

export interface Segment {
  readonly index: number;
  /** Stream time of its first sample, seconds. */
  readonly start: number;
  readonly samples: Float32Array;
  /** Its left and right channels, when the source has given any. */
  readonly channels?: Channels;
  readonly frame: RgbFrame;
}

export function toSegments(maxFrameLagSeconds = 2): OperatorFunction<SourceEvent, Segment> {
  return (source) =>
    new Observable<Segment>((subscriber) => {
      const perSegment = SOURCE_SAMPLE_RATE;
      let audio = new Float32Array(perSegment * 4);
      let left = new Float32Array(audio.length);
      let right = new Float32Array(audio.length);
      let stereo = false; // the source has given both channels
      let audioLength = 0; // samples buffered, starting at segment `next`
      let next = 0;
      const frames: Array<{ time: number; frame: RgbFrame }> = [];

      const frameFor = (middle: number, force: boolean): RgbFrame | undefined => {
        const after = frames.findIndex((f) => f.time >= middle - 0.25);
        if (after >= 0) return frames[after]!.frame;
        // No picture at all (a microphone alone): a black one, so sound is still answered.
        return force ? (frames.at(-1)?.frame ?? BLACK_FRAME) : undefined;
      };

      const emitReady = () => {
        while (audioLength >= perSegment) {
          const middle = next + 0.5;
          const lagging = audioLength >= perSegment * (1 + maxFrameLagSeconds);
          const frame = frameFor(middle, lagging);
          if (!frame) return;
          const channels = stereo
            ? ([left.slice(0, perSegment), right.slice(0, perSegment)] as const)
            : undefined;
          const samples = audio.slice(0, perSegment);
          subscriber.next({
            index: next,
            start: next,
            samples,
            ...(channels && { channels }),
            frame,
          });
          for (const buffer of [audio, left, right]) buffer.copyWithin(0, perSegment, audioLength);
          audioLength -= perSegment;
          next += 1;
          while (frames.length > 1 && frames[1]!.time <= next + 0.25) frames.shift();
        }
      };

      return source.subscribe({
        next(event) {
          if (event.kind === 'frame') {
            frames.push({ time: event.time, frame: event.frame });
            if (frames.length > 60) frames.shift();
          } else {
            if (audioLength + event.samples.length > audio.length) {
              const size = Math.max(audio.length * 2, audioLength + event.samples.length);
              const grow = (buffer: Float32Array) => {
                const grown = new Float32Array(size);
                grown.set(buffer.subarray(0, audioLength));
                return grown;
              };
              [audio, left, right] = [grow(audio), grow(left), grow(right)];
            }
            audio.set(event.samples, audioLength);
            stereo ||= event.channels !== undefined;
            left.set(event.channels?.[0] ?? event.samples, audioLength);
            right.set(event.channels?.[1] ?? event.samples, audioLength);
            audioLength += event.samples.length;
          }
          emitReady();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
