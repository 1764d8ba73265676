/** Reads the reference vectors written by models/reference/frontend_fixtures.py. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './musicavqa.js';

export { patternImage } from './pattern-image.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'frontend');

export interface ArrayFile {
  file: string;
  shape: number[];
}

export interface AudioFixture {
  name: string;
  signal: ArrayFile;
  /** torchaudio in float32, as AST runs it. */
  fbank: ArrayFile;
  /** torchaudio in float64 (same algorithm, without float32 FFT rounding), float32 floor kept. */
  fbank64: ArrayFile;
  vggish?: ArrayFile;
  astInput100?: ArrayFile;
  astInput256?: ArrayFile;
}

export interface ClipFixture {
  width: number;
  height: number;
  size: number;
  pixels: ArrayFile;
  probes: Array<{ at: [number, number, number]; value: number }>;
}

export const manifest = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  rate: number;
  audio: AudioFixture[];
  clip: ClipFixture[];
};

export function readFloat32(entry: ArrayFile): Float32Array {
  const bytes = readFileSync(path.join(DIR, entry.file));
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

export function readUint8(entry: ArrayFile): Uint8Array {
  return new Uint8Array(readFileSync(path.join(DIR, entry.file)));
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
