/**
 * A camera and a microphone on this machine, through native ffmpeg: on Linux a V4L2 camera
 * (`/dev/video0`) with a PulseAudio or ALSA input; on macOS avfoundation, on Windows dshow. Both
 * inputs feed one ffmpeg process, so their chunks and frames come out on one clock (timestamps
 * from sample and frame counts, as for files).
 */
import { existsSync } from 'node:fs';
import { Observable } from 'rxjs';
import { ffmpegEvents, letterboxed, type SourceEvent } from './media-file-source.js';

/** One ffmpeg input device: its format (`v4l2`, `pulse`, `alsa`, `avfoundation`, `dshow`, or
 * `lavfi` for a generated stand-in) and the device it opens. */
export interface CaptureInput {
  readonly format: string;
  readonly device: string;
  /** Extra ffmpeg input options, e.g. ['-video_size', '1280x720', '-framerate', '30']. */
  readonly options?: readonly string[];
}

export interface CaptureDeviceOptions {
  readonly video: CaptureInput;
  readonly audio: CaptureInput;
}

/** `/dev/video0` or `v4l2:/dev/video0`, `pulse:default`, `alsa:hw:1`: format, then device. */
export function parseCaptureInput(spec: string, defaultFormat: string): CaptureInput {
  const match = /^(v4l2|pulse|alsa|avfoundation|dshow|lavfi):(.+)$/.exec(spec);
  return match ? { format: match[1]!, device: match[2]! } : { format: defaultFormat, device: spec };
}

/** ffmpeg's input arguments for the pair: video is input 0, audio input 1. */
export function captureArgs({ video, audio }: CaptureDeviceOptions): string[] {
  // Live devices: keep ffmpeg's input queue short so frames are not held back.
  const input = ({ format, device, options = [] }: CaptureInput) => [
    '-thread_queue_size',
    '512',
    '-f',
    format,
    ...options,
    '-i',
    device,
  ];
  return [...input(video), ...input(audio)];
}

export function captureDeviceSource(options: CaptureDeviceOptions): Observable<SourceEvent> {
  return new Observable<SourceEvent>((subscriber) => {
    const { video } = options;
    if (video.format === 'v4l2' && !existsSync(video.device)) {
      subscriber.error(
        new Error(`no camera at ${video.device} (the cameras here: ls /dev/video*)`),
      );
      return;
    }
    return ffmpegEvents(
      {
        name: `camera ${video.device} with ${options.audio.format} ${options.audio.device}`,
        args: captureArgs(options),
        videoMap: '0:v:0',
        audioMap: '1:a:0',
        ...letterboxed(),
        live: true, // a device that stops sending is gone, to be retried
      },
      subscriber,
    );
  });
}
