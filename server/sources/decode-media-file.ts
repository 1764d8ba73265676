/**
 * Decodes a media file with native ffmpeg: its audio as 16 kHz mono float32, and RGB24 frames at
 * the middle of every second (the frame QSTar sees for that one-second segment).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RgbFrame } from '../features/video/rgb-frame.js';

const run = promisify(execFile);
const MAX_BYTES = 1 << 30;

export async function decodeAudio(file: string, sampleRate = 16_000): Promise<Float32Array> {
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-vn',
      '-f',
      'f32le',
      '-ac',
      '1',
      '-ar',
      String(sampleRate),
      'pipe:1',
    ],
    {
      encoding: 'buffer',
      maxBuffer: MAX_BYTES,
    },
  ).catch((error: Error & { stderr?: Buffer }) => {
    throw new Error(
      `ffmpeg cannot decode the audio of ${file}: ${error.stderr?.toString().trim() || error.message}`,
    );
  });
  return new Float32Array(
    stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength),
  );
}

export async function probeVideoSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    file,
  ]).catch((error: Error & { stderr?: string }) => {
    throw new Error(`ffprobe cannot read ${file}: ${error.stderr?.trim() || error.message}`);
  });
  const [width, height] = stdout.trim().split(',').map(Number);
  if (!width || !height) throw new Error(`${file} has no video stream`);
  return { width, height };
}

/** One frame per second, taken at s + 0.5 s. */
export async function decodeSegmentFrames(file: string): Promise<RgbFrame[]> {
  const { width, height } = await probeVideoSize(file);
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-an',
      '-vf',
      'fps=2',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    {
      encoding: 'buffer',
      maxBuffer: MAX_BYTES,
    },
  );
  const size = width * height * 3;
  const frames: RgbFrame[] = [];
  // fps=2 gives frames at 0, 0.5, 1, 1.5 … s: the odd ones are the segments' middles.
  for (let offset = size; offset + size <= stdout.length; offset += 2 * size) {
    frames.push({ width, height, data: new Uint8Array(stdout.subarray(offset, offset + size)) });
  }
  return frames;
}
