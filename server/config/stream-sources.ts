/**
 * A stream's source from its description (the venue file's `source`, or an environment
 * variable's): the ffmpeg, PortAudio or demo source that delivers its pictures and sound.
 */
import type { StreamConfig } from '../pipeline/live-stream.js';
import { captureDeviceSource, parseCaptureInput } from '../sources/capture-device-source.js';
import { mediaFileSource } from '../sources/media-file-source.js';
import { microphoneSource } from '../sources/microphone-source.js';
import { orientChannels } from '../sources/orient-channels.js';
import type { StreamSpec } from './venue-config.js';

export function streamConfig(spec: StreamSpec, demoFile: string): StreamConfig {
  const made = sourceOf(spec, demoFile);
  const stereo = spec.stereo ?? 'as-recorded';
  return {
    id: spec.id,
    ...(spec.questions ? { questions: spec.questions } : {}),
    // A rule names its question by position; standing questions get ids q1, q2… in order.
    ...(spec.rules
      ? {
          rules: spec.rules.map(({ question, ...rule }) => ({
            ...rule,
            ...(question !== undefined ? { questionId: `q${question + 1}` } : {}),
          })),
        }
      : {}),
    source: stereo === 'as-recorded' ? made : () => made().pipe(orientChannels(stereo)),
  };
}

function sourceOf({ source }: StreamSpec, demoFile: string): StreamConfig['source'] {
  return 'demo' in source
    ? () => mediaFileSource(demoFile, { realtime: true, loop: true })
    : 'file' in source
      ? // A file is played at its own pace, as if live.
        () => mediaFileSource(source.file, { realtime: true, loop: source.loop ?? false })
      : 'url' in source
        ? // A network stream is live already; when it drops it is retried.
          () => mediaFileSource(source.url, { live: true })
        : 'microphone' in source
          ? () =>
              microphoneSource({
                deviceId: source.microphone === 'default' ? -1 : source.microphone,
              })
          : () =>
              captureDeviceSource({
                video: parseCaptureInput(source.camera, 'v4l2'),
                audio: parseCaptureInput(source.audio ?? 'default', 'pulse'),
              });
}
