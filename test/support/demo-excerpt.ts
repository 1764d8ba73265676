/**
 * Cuts of the demo clip (server/sources/demo/demo.mp4: 8 s of silence, then FluidSynth-rendered
 * piano, clarinet and flute come in) as test media, through native ffmpeg.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoPath } from './run-cli.js';

const run = promisify(execFile);

export const DEMO = repoPath('server/sources/demo/demo.mp4');

/** `seconds` of the demo from `start` s, encoded by `outputArgs` into `file` (returned). */
export async function demoExcerpt(
  start: number,
  seconds: number,
  outputArgs: readonly string[],
  file: string,
): Promise<string> {
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-ss', String(start), '-t', String(seconds), '-i', DEMO],
    ...outputArgs,
    file,
  ]);
  return file;
}

/** `seconds` of the demo's piano and clarinet as a 16 kHz mono wav. */
export function demoMusicWav(seconds: number): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-music-')), 'music.wav');
  return demoExcerpt(12, seconds, ['-ac', '1', '-ar', '16000'], file);
}
