/**
 * RxJS operator: a source's left and right channels as the stream's venue entry says they stand
 * to the picture — swapped (microphones facing the stage from the other side, or a mirrored
 * picture: the head's rules by pan would otherwise read the stage backwards), or dropped (mono:
 * the head keeps its mono facts). The mono samples the encoders hear are left as they are.
 */
import { map, type OperatorFunction } from 'rxjs';
import type { SourceEvent } from './media-file-source.js';

export type ChannelOrientation = 'swapped' | 'mono';

export function orientChannels(
  orientation: ChannelOrientation,
): OperatorFunction<SourceEvent, SourceEvent> {
  return map((event) => {
    if (event.kind !== 'audio' || !event.channels) return event;
    const { channels, ...audio } = event;
    if (orientation === 'mono') return audio;
    return { ...audio, channels: [channels[1], channels[0]] as const };
  });
}
