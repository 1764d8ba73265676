/**
 * Decodes a media file with native ffmpeg: its audio as 16 kHz mono float32 (or both channels), and RGB24 frames at
 * the middle of every second (the frame QSTar sees for that one-second segment).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RgbFrame } from '../features/video/rgb-frame.js';

const run = promisify(execFile);

/** ffmpeg's stdout for `args`, or an error that says what could not be decoded and why. */
async function ffmpegOutput(args: string[], what: string): Promise<Buffer> {
  try {
    const { stdout } = await run('ffmpeg', ['-v', 'error', ...args, 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 1 << 30,
    });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as Error & { stderr?: Buffer };
    throw new Error(`ffmpeg cannot decode ${what}: ${stderr?.toString().trim() || message}`);
  }
}

/** ffmpeg's f32le output as samples (copied: a Buffer may sit unaligned in a shared pool). */
export function float32Samples(bytes: Buffer): Float32Array {
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

export async function decodeAudio(file: string, sampleRate = 16_000): Promise<Float32Array> {
  const bytes = await ffmpegOutput(
    ['-i', file, '-vn', '-f', 'f32le', '-ac', '1', '-ar', String(sampleRate)],
    `the audio of ${file}`,
  );
  return float32Samples(bytes);
}

/** Both channels at 16 kHz (a mono file gives the same samples twice): where each sound stands. */
export async function decodeStereoAudio(
  file: string,
  sampleRate = 16_000,
): Promise<{ left: Float32Array; right: Float32Array }> {
  const bytes = await ffmpegOutput(
    ['-i', file, '-vn', '-f', 'f32le', '-ac', '2', '-ar', String(sampleRate)],
    `the audio of ${file}`,
  );
  return deinterleave(float32Samples(bytes));
}

/** L R L R … → the two channels. */
export function deinterleave(interleaved: Float32Array): {
  left: Float32Array;
  right: Float32Array;
} {
  const left = new Float32Array(interleaved.length >> 1);
  const right = new Float32Array(interleaved.length >> 1);
  for (let i = 0; i < left.length; i++) {
    left[i] = interleaved[2 * i]!;
    right[i] = interleaved[2 * i + 1]!;
  }
  return { left, right };
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
  const bytes = await ffmpegOutput(
    ['-i', file, '-an', '-vf', 'fps=2', '-f', 'rawvideo', '-pix_fmt', 'rgb24'],
    `the video of ${file}`,
  );
  const size = width * height * 3;
  const frames: RgbFrame[] = [];
  // fps=2 gives frames at 0, 0.5, 1, 1.5 … s: the odd ones are the segments' middles.
  for (let offset = size; offset + size <= bytes.length; offset += 2 * size) {
    frames.push({ width, height, data: new Uint8Array(bytes.subarray(offset, offset + size)) });
  }
  return frames;
}
