/**
 * A local recording made ready for the monitor in the browser, with ffmpeg.wasm: whatever the
 * file's format, out comes a small Matroska stream the monitor's ffmpeg reads from a pipe —
 * 2 frames a second as MJPEG at most 640×360, and 16 kHz stereo PCM (the monitor hears where each
 * part stands; a mono file is both channels alike). A recording without a picture
 * gets a black one (QSTar's visual side then sees an empty stage). The ffmpeg core is served by
 * the dashboard itself (Vite copies it into the build): no CDN.
 */
import { FFmpeg } from '@ffmpeg/ffmpeg';
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';

export interface TranscodeProgress {
  readonly stage: 'loading' | 'decoding';
  /** 0…1 while decoding. */
  readonly fraction: number;
}

/** ffmpeg's arguments: `hasVideo` decides between the file's picture and a black one. */
export function transcodeArgs(input: string, output: string, hasVideo: boolean): string[] {
  const picture = hasVideo
    ? ['-i', input, '-map', '0:a:0', '-map', '0:v:0']
    : [
        '-i',
        input,
        '-f',
        'lavfi',
        '-i',
        'color=black:s=320x180:r=2',
        '-map',
        '0:a:0',
        '-map',
        '1:v:0',
        '-shortest',
      ];
  return [
    ...picture,
    ...['-vf', 'fps=2,scale=640:360:force_original_aspect_ratio=decrease'],
    ...['-c:v', 'mjpeg', '-q:v', '5', '-c:a', 'pcm_s16le', '-ar', '16000', '-ac', '2'],
    ...['-f', 'matroska', output],
  ];
}

export async function transcodeRecording(
  file: File,
  onProgress: (progress: TranscodeProgress) => void = () => undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const ffmpeg = new FFmpeg();
  const log: string[] = [];
  ffmpeg.on('log', ({ message }) => log.push(message));
  ffmpeg.on('progress', ({ progress }) =>
    onProgress({ stage: 'decoding', fraction: Math.max(0, Math.min(1, progress)) }),
  );
  onProgress({ stage: 'loading', fraction: 0 });
  await ffmpeg.load({ coreURL, wasmURL });
  try {
    const input = `input${/\.[\w]{1,5}$/.exec(file.name)?.[0] ?? ''}`;
    await ffmpeg.writeFile(input, new Uint8Array(await file.arrayBuffer()));
    // `-i` alone lists the file's streams (and exits non-zero: no output named).
    await ffmpeg.exec(['-hide_banner', '-i', input]);
    const listing = log.join('\n');
    if (!/Stream #\d+:\d+.*Audio:/.test(listing))
      throw new Error(`${file.name} has no sound ffmpeg can decode`);
    log.length = 0;
    const code = await ffmpeg.exec(
      transcodeArgs(input, 'out.mkv', /Stream #\d+:\d+.*Video:/.test(listing)),
    );
    if (code !== 0)
      throw new Error(`ffmpeg cannot convert ${file.name}: ${log.slice(-3).join(' ')}`);
    return (await ffmpeg.readFile('out.mkv')) as Uint8Array<ArrayBuffer>;
  } finally {
    ffmpeg.terminate();
  }
}
