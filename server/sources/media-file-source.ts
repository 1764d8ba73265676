/**
 * A media file (or anything ffmpeg opens: a URL, an RTSP stream) as an Observable of timestamped
 * audio chunks (16 kHz mono float32) and video frames (RGB24, 2 per second). One ffmpeg process
 * writes both, audio to stdout and video to a third pipe, so both share one clock: timestamps come
 * from sample and frame counts, not from arrival order. `realtime` paces reading at the file's
 * own speed (ffmpeg -re); `loop` repeats it forever with timestamps running on.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import { probeVideoSize } from './decode-media-file.js';

export const SOURCE_SAMPLE_RATE = 16_000;
export const SOURCE_FRAME_RATE = 2;

export type SourceEvent =
  | { readonly kind: 'audio'; readonly time: number; readonly samples: Float32Array }
  | { readonly kind: 'frame'; readonly time: number; readonly frame: RgbFrame };

export interface MediaFileSourceOptions {
  readonly realtime?: boolean;
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

export function mediaFileSource(
  input: string,
  options: MediaFileSourceOptions = {},
): Observable<SourceEvent> {
  return new Observable<SourceEvent>((subscriber) => {
    let ffmpeg: ReturnType<typeof spawn> | undefined;
    let closed = false;
    probeVideoSize(input)
      .then(({ width, height }) => {
        if (closed) return;
        ffmpeg = spawn(
          'ffmpeg',
          [
            '-hide_banner',
            '-loglevel',
            'error',
            '-nostdin',
            ...(options.realtime ? ['-re'] : []),
            ...(options.loop ? ['-stream_loop', '-1'] : []),
            '-i',
            input,
            '-map',
            '0:a:0',
            '-f',
            'f32le',
            '-ac',
            '1',
            '-ar',
            String(SOURCE_SAMPLE_RATE),
            'pipe:1',
            '-map',
            '0:v:0',
            '-vf',
            `fps=${SOURCE_FRAME_RATE}`,
            '-f',
            'rawvideo',
            '-pix_fmt',
            'rgb24',
            'pipe:3',
          ],
          { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
        );
        let stderr = '';
        let samples = 0;
        let frames = 0;
        // 20 ms audio chunks, as a live microphone would deliver them.
        records(ffmpeg.stdout!, (SOURCE_SAMPLE_RATE / 50) * 4, (record) => {
          const chunk = new Float32Array(
            record.buffer.slice(record.byteOffset, record.byteOffset + record.byteLength),
          );
          subscriber.next({ kind: 'audio', time: samples / SOURCE_SAMPLE_RATE, samples: chunk });
          samples += chunk.length;
        });
        records(ffmpeg.stdio[3] as Readable, width * height * 3, (record) => {
          subscriber.next({
            kind: 'frame',
            time: frames / SOURCE_FRAME_RATE,
            frame: { width, height, data: new Uint8Array(record) },
          });
          frames += 1;
        });
        ffmpeg.stderr!.on(
          'data',
          (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)),
        );
        ffmpeg.on('error', (error) =>
          subscriber.error(new Error(`cannot start ffmpeg for ${input}: ${error.message}`)),
        );
        ffmpeg.on('close', (code, signal) => {
          if (closed) return;
          if (code === 0) subscriber.complete();
          else
            subscriber.error(
              new Error(`ffmpeg stopped reading ${input} (${code ?? signal}): ${stderr.trim()}`),
            );
        });
      })
      .catch((error: unknown) => subscriber.error(error));
    return () => {
      closed = true;
      ffmpeg?.kill('SIGKILL');
    };
  });
}
