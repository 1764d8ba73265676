/**
 * Media through native ffmpeg as an Observable of timestamped audio chunks (16 kHz mono float32,
 * 20 ms each, with the same 20 ms of both channels: where each sound stands) and video frames
 * (RGB24, 2 per second): a file or a network stream (RTSP, HTTP…)
 * ffmpeg opens (`mediaFileSource`), or a byte stream piped into it (`pipedMediaSource`, e.g. the
 * browser's MediaRecorder chunks); capture devices are in capture-device-source.ts. One ffmpeg
 * process writes all, mono audio to stdout (ffmpeg's own downmix, as the encoders were trained on),
 * video to a third pipe and the two channels to a fourth, so all share one clock: timestamps come
 * from sample and frame counts, not arrival order.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Observable, type Subscriber } from 'rxjs';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import { deinterleave, float32Samples, probeVideoSize } from './decode-media-file.js';

export const SOURCE_SAMPLE_RATE = 16_000;
export const SOURCE_FRAME_RATE = 2;

/** A span's left and right channels. */
export type Channels = readonly [left: Float32Array, right: Float32Array];

export type SourceEvent =
  | {
      readonly kind: 'audio';
      readonly time: number;
      readonly samples: Float32Array;
      /** The same span's left and right channels, where the source has them (a mono one: equal). */
      readonly channels?: Channels;
    }
  | {
      readonly kind: 'frame';
      readonly time: number;
      readonly frame: RgbFrame;
    };

export interface MediaFileSourceOptions {
  /** Read at the media's own pace (ffmpeg -re), as a live source would deliver it. */
  readonly realtime?: boolean;
  /** A live stream (a camera's RTSP feed): its end is a failure, to be retried, not completion. */
  readonly live?: boolean;
  /** Start again at the end, forever, with timestamps running on. */
  readonly loop?: boolean;
}

/** Cuts a byte stream into fixed-size records, carrying partial ones over. */
function records(stream: Readable, size: number, onRecord: (record: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    for (; offset + size <= pending.length; offset += size)
      onRecord(pending.subarray(offset, offset + size));
    pending = pending.subarray(offset);
  });
}

export interface FfmpegInput {
  /** What the errors call it. */
  readonly name: string;
  /** ffmpeg's input arguments, `-i` included (one or two inputs). */
  readonly args: string[];
  /** Which input streams to read (defaults 0:a:0 and 0:v:0). */
  readonly audioMap?: string;
  readonly videoMap?: string;
  readonly width: number;
  readonly height: number;
  /** Extra video filters after fps (e.g. scaling to width × height). */
  readonly scale?: string;
  /** Piped to ffmpeg's stdin. */
  readonly stdin?: Readable;
  /** Its end is an error (a live stream does not end; it dropped or went silent). */
  readonly live?: boolean;
}

export function ffmpegEvents(input: FfmpegInput, subscriber: Subscriber<SourceEvent>): () => void {
  const { width, height } = input;
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      ...(input.stdin ? [] : ['-nostdin']),
      ...input.args,
      '-map',
      input.audioMap ?? '0:a:0',
      '-f',
      'f32le',
      '-ac',
      '1',
      '-ar',
      String(SOURCE_SAMPLE_RATE),
      'pipe:1',
      '-map',
      input.videoMap ?? '0:v:0',
      '-vf',
      `fps=${SOURCE_FRAME_RATE}${input.scale ? `,${input.scale}` : ''}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:3',
      '-map',
      input.audioMap ?? '0:a:0',
      '-f',
      'f32le',
      '-ac',
      '2',
      '-ar',
      String(SOURCE_SAMPLE_RATE),
      'pipe:4',
    ],
    { stdio: [input.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'] },
  );
  let closed = false;
  let stderr = '';
  let samples = 0;
  let frames = 0;
  if (input.stdin) {
    ffmpeg.stdin!.on('error', () => undefined); // a dying ffmpeg says why on stderr
    input.stdin.pipe(ffmpeg.stdin!);
  }
  // Each 20 ms of mono goes out with the same 20 ms of both channels (two pipes of one decoder).
  const mono: Float32Array[] = [];
  const stereo: Float32Array[] = [];
  const emitAudio = () => {
    while (mono.length > 0 && stereo.length > 0) {
      const chunk = mono.shift()!;
      const { left, right } = deinterleave(stereo.shift()!);
      const time = samples / SOURCE_SAMPLE_RATE;
      subscriber.next({ kind: 'audio', time, samples: chunk, channels: [left, right] });
      samples += chunk.length;
    }
  };
  const chunkBytes = (SOURCE_SAMPLE_RATE / 50) * 4;
  records(ffmpeg.stdout!, chunkBytes, (record) => {
    mono.push(float32Samples(record));
    emitAudio();
  });
  records(ffmpeg.stdio[4] as Readable, 2 * chunkBytes, (record) => {
    stereo.push(float32Samples(record));
    emitAudio();
  });
  records(ffmpeg.stdio[3] as Readable, width * height * 3, (record) => {
    subscriber.next({
      kind: 'frame',
      time: frames / SOURCE_FRAME_RATE,
      frame: { width, height, data: new Uint8Array(record) },
    });
    frames += 1;
  });
  ffmpeg.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  ffmpeg.on('error', (error) =>
    subscriber.error(new Error(`cannot start ffmpeg for ${input.name}: ${error.message}`)),
  );
  ffmpeg.on('close', (code, signal) => {
    if (closed) return;
    if (code === 0 && input.live)
      subscriber.error(
        new Error(
          `the live stream ${input.name} ended or went silent${stderr ? `: ${stderr.trim()}` : ''}`,
        ),
      );
    else if (code === 0) subscriber.complete();
    else
      subscriber.error(
        new Error(`ffmpeg stopped reading ${input.name} (${code ?? signal}): ${stderr.trim()}`),
      );
  });
  return () => {
    closed = true;
    ffmpeg.kill('SIGKILL');
  };
}

/** A URL with a scheme (rtsp://, http://, srt://…), as opposed to a file path. */
export const isNetworkStream = (input: string): boolean => /^[a-z][\w+.-]*:\/\//i.test(input);

/** How long a network stream may stay silent before it counts as dead (and is retried), s. */
const NETWORK_TIMEOUT_S = 10;

/** ffmpeg options that make a stalled network stream fail instead of hanging forever. */
function networkOptions(url: string): string[] {
  const micros = String(NETWORK_TIMEOUT_S * 1_000_000);
  if (/^rtsps?:/i.test(url)) return ['-timeout', micros];
  return ['-rw_timeout', micros];
}

export function mediaFileSource(
  input: string,
  options: MediaFileSourceOptions = {},
): Observable<SourceEvent> {
  const pacing = [
    ...(options.realtime ? ['-re'] : []),
    ...(options.loop ? ['-stream_loop', '-1'] : []),
  ];
  if (isNetworkStream(input)) {
    // A live stream's picture size is not known until it plays and may change: letterbox it.
    return new Observable<SourceEvent>((subscriber) =>
      ffmpegEvents(
        {
          name: input,
          args: [...pacing, ...networkOptions(input), '-i', input],
          ...letterboxed(),
          ...(options.live ? { live: true } : {}),
        },
        subscriber,
      ),
    );
  }
  return new Observable<SourceEvent>((subscriber) => {
    let stop: (() => void) | undefined;
    let closed = false;
    probeVideoSize(input)
      .then((size) => {
        if (closed) return;
        // ffmpeg scales a large picture down (a 4K or 8K file would otherwise cost the monitor
        // far more than any profile needs); a small one passes as it is.
        const { width, height } = fittedSize(size);
        const scale =
          width === size.width && height === size.height
            ? {}
            : { scale: `scale=${width}:${height}` };
        stop = ffmpegEvents(
          { name: input, args: [...pacing, '-i', input], width, height, ...scale },
          subscriber,
        );
      })
      .catch((error: unknown) => subscriber.error(error));
    return () => {
      closed = true;
      stop?.();
    };
  });
}

/**
 * The largest picture a source delivers: frames of a stream whose size is unknown up front are
 * letterboxed to it, larger files scaled into it. More than either profile needs (tiny: 128 × 64,
 * paper: 224 × 224 after a crop), and the dashboard's live picture.
 */
const LETTERBOX = { width: 640, height: 360 } as const;

/** The size a picture is delivered at: within LETTERBOX, aspect kept, even, never enlarged. */
export function fittedSize(size: { width: number; height: number }): {
  width: number;
  height: number;
} {
  const scale = Math.min(1, LETTERBOX.width / size.width, LETTERBOX.height / size.height);
  if (scale === 1) return size;
  const even = (value: number) => Math.max(2, 2 * Math.round((value * scale) / 2));
  return { width: even(size.width), height: even(size.height) };
}

export function letterboxed(): Pick<FfmpegInput, 'width' | 'height' | 'scale'> {
  const { width, height } = LETTERBOX;
  return {
    width,
    height,
    scale: `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
  };
}

/**
 * A byte stream in a container ffmpeg can read progressively (WebM, Matroska, MPEG-TS): a live
 * capture as it arrives, or with `readRate` a recording played at that many times real time
 * (ffmpeg -readrate), so a whole file sent at once is still answered hop by hop.
 */
export function pipedMediaSource(
  name: string,
  bytes: Readable,
  options: { readRate?: number } = {},
): Observable<SourceEvent> {
  const pacing = options.readRate
    ? ['-readrate', String(options.readRate)]
    : ['-fflags', 'nobuffer'];
  return new Observable<SourceEvent>((subscriber) => {
    const stop = ffmpegEvents(
      { name, args: [...pacing, '-i', 'pipe:0'], ...letterboxed(), stdin: bytes },
      subscriber,
    );
    return () => {
      stop();
      // One-shot: whoever still writes learns the stream has stopped.
      bytes.destroy();
    };
  });
}
