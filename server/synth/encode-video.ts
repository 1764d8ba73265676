/** Muxes rendered frames and the stereo soundtrack into an mp4 (H.264 + AAC) with native ffmpeg. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import type { StageRenderer } from './stage-renderer.js';

export interface Soundtrack {
  readonly left: Float32Array;
  readonly right: Float32Array;
  readonly sampleRate: number;
}

function interleave({ left, right }: Soundtrack): Float32Array {
  const out = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    out[2 * i] = left[i]!;
    out[2 * i + 1] = right[i]!;
  }
  return out;
}

export async function encodeVideo(
  outPath: string,
  renderer: StageRenderer,
  soundtrack: Soundtrack,
): Promise<void> {
  const audioPath = `${outPath}.f32`;
  await writeFile(audioPath, interleave(soundtrack));
  const { width, height, fps } = renderer.format;
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgba',
      '-s',
      `${width}x${height}`,
      '-r',
      String(fps),
      '-i',
      'pipe:0',
      '-f',
      'f32le',
      '-ar',
      String(soundtrack.sampleRate),
      '-ac',
      '2',
      '-i',
      audioPath,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '26',
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(fps),
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-shortest',
      '-movflags',
      '+faststart',
      outPath,
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A dying ffmpeg closes its input; its exit code and stderr say why, below.
  ffmpeg.stdin.on('error', () => undefined);
  const exited = once(ffmpeg, 'close') as Promise<[number | null]>;
  try {
    for (let index = 0; index < renderer.frameCount; index++) {
      if (!ffmpeg.stdin.write(renderer.frame(index))) await once(ffmpeg.stdin, 'drain');
    }
    ffmpeg.stdin.end();
    const [code] = await exited;
    if (code !== 0)
      throw new Error(`ffmpeg failed encoding ${outPath} (exit ${code}): ${stderr.trim()}`);
  } finally {
    await rm(audioPath, { force: true });
  }
}
