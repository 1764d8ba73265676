/**
 * A lossy codec round trip through native ffmpeg (Opus or MP3 at a low bit rate, as a stream or
 * a phone call would carry the audio): 16 kHz mono float samples in, the decoded samples out, the
 * same length (encoder delay is trimmed by the containers; a short tail is padded with silence).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ENCODERS = {
  opus: { library: 'libopus', extension: 'ogg' },
  mp3: { library: 'libmp3lame', extension: 'mp3' },
} as const;

export async function codecRoundTrip(
  samples: Float32Array,
  sampleRate: number,
  codec: keyof typeof ENCODERS,
  kbps: number,
): Promise<Float32Array> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tutti-codec-'));
  const { library, extension } = ENCODERS[codec];
  const raw = path.join(dir, 'in.f32');
  const encoded = path.join(dir, `coded.${extension}`);
  const decoded = path.join(dir, 'out.f32');
  const pcm = ['-f', 'f32le', '-ac', '1', '-ar', String(sampleRate)];
  try {
    await writeFile(raw, samples);
    await run('ffmpeg', [
      '-v',
      'error',
      '-y',
      ...pcm,
      '-i',
      raw,
      '-c:a',
      library,
      '-b:a',
      `${kbps}k`,
      encoded,
    ]);
    await run('ffmpeg', ['-v', 'error', '-y', '-i', encoded, ...pcm, decoded]);
    const bytes = await readFile(decoded);
    const back = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const out = new Float32Array(samples.length);
    out.set(back.subarray(0, samples.length));
    return out;
  } catch (error) {
    const { stderr, message } = error as Error & { stderr?: string };
    throw new Error(
      `ffmpeg cannot round-trip audio through ${codec} at ${kbps} kb/s: ${stderr?.trim() || message}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
