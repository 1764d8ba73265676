/**
 * The tools that carry a benchmark to a lent GPU machine (models/gpu-onnx.sh): a random-weight
 * profile without its weights (models/qstar/weightless.py), and a CUDA library with only the
 * H100/H200's kernels (models/cuda_sm90_only.py).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, tensor } from '../server/encoders/onnx-model.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { runPython } from './support/run-cli.js';

const TINY = path.join(REPO_ROOT, 'models', 'tiny');
const hasCompiler = spawnSync('cc', ['--version']).status === 0;

async function runFrameEncoder(file: string) {
  const { session } = await loadModel(file, { providers: ['cpu'] });
  const name = session.inputNames[0]!;
  const out = await session.run({
    [name]: tensor(new Float32Array(3 * 64 * 128).fill(0.5), [1, 3, 64, 128]),
  });
  await session.release();
  return out['embedding']!;
}

describe('weightless.py', () => {
  it('strips a profile to its graphs and fills it again with weights of the noted mean and spread', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-weightless-'));
    const [source, stripped, filled] = ['source', 'stripped', 'filled'].map((d) =>
      path.join(dir, d),
    );
    mkdirSync(source!);
    for (const file of ['manifest.json', 'tiny-frame.onnx'])
      copyFileSync(path.join(TINY, file), path.join(source!, file));
    await runPython(['models/qstar/weightless.py', 'strip', source!, stripped!]);
    const size = (d: string) => statSync(path.join(d, 'tiny-frame.onnx')).size;
    expect(size(stripped!)).toBeLessThan(size(source!) / 5);
    const notes = JSON.parse(readFileSync(path.join(stripped!, 'weightless.json'), 'utf8'));
    const emptied = Object.values(notes['tiny-frame.onnx'] as Record<string, [number, number]>);
    expect(emptied.length).toBeGreaterThan(3);
    expect(readFileSync(path.join(stripped!, 'manifest.json'), 'utf8')).toBe(
      readFileSync(path.join(TINY, 'manifest.json'), 'utf8'),
    );

    await runPython(['models/qstar/weightless.py', 'fill', stripped!, filled!, '--seed', '3']);
    expect(Math.abs(size(filled!) - size(source!))).toBeLessThan(size(source!) * 0.05);
    const [original, refilled] = await Promise.all([
      runFrameEncoder(path.join(source!, 'tiny-frame.onnx')),
      runFrameEncoder(path.join(filled!, 'tiny-frame.onnx')),
    ]);
    // The same shapes at the same cost; the values are new draws, so the answers differ.
    expect(refilled.dims).toEqual(original.dims);
    const values = refilled.data as Float32Array;
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values.some((v, i) => Math.abs(v - (original.data as Float32Array)[i]!) > 1e-3)).toBe(
      true,
    );
  }, 120_000);
});

/** A fat binary image header: kind (2 cubin), header and payload sizes, the GPU architecture. */
function image(kind: number, arch: number, fill: number): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt16LE(kind, 0);
  header.writeUInt16LE(0x0101, 2);
  header.writeUInt32LE(64, 4);
  header.writeBigUInt64LE(64n, 8);
  header.writeUInt32LE(arch, 28);
  return Buffer.concat([header, Buffer.alloc(64, fill)]);
}

/** A shared library whose .nv_fatbin section holds `images` behind a fat binary header. */
function libraryWith(dir: string, images: Buffer[]): string {
  const body = Buffer.concat(images);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(0xba55ed50, 0);
  header.writeUInt16LE(1, 4);
  header.writeUInt16LE(16, 6);
  header.writeBigUInt64LE(BigInt(body.length), 8);
  const bytes = [...Buffer.concat([header, body])].join(',');
  const source = path.join(dir, 'fatbin.c');
  writeFileSync(
    source,
    `__attribute__((section(".nv_fatbin"), used, aligned(8))) const unsigned char fatbin[] = {${bytes}};\n`,
  );
  const library = path.join(dir, `lib${images.length}.so`);
  execFileSync('cc', ['-shared', '-fPIC', '-o', library, source]);
  return library;
}

const count = (bytes: Buffer, value: number) =>
  bytes.reduce((n, b) => n + (b === value ? 1 : 0), 0);

describe.skipIf(!hasCompiler)('cuda_sm90_only.py', () => {
  it("zeroes every cubin but sm_90's, keeping the layout and the other kinds", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-sm90-'));
    const library = libraryWith(dir, [
      image(2, 80, 0xab),
      image(2, 90, 0xcd),
      image(1, 80, 0xef),
      image(2, 120, 0xab),
    ]);
    const out = path.join(dir, 'out.so');
    const { stdout } = await runPython(['models/cuda_sm90_only.py', library, out]);
    expect(stdout).toContain('kept sm_90');
    const before = readFileSync(library);
    const after = readFileSync(out);
    expect(after.length).toBe(before.length);
    expect(count(before, 0xab)).toBeGreaterThanOrEqual(128);
    expect(count(after, 0xab)).toBe(count(before, 0xab) - 128); // both sm_80 and sm_120 cubins
    expect(count(after, 0xcd)).toBe(count(before, 0xcd)); // sm_90 kept
    expect(count(after, 0xef)).toBe(count(before, 0xef)); // PTX kept
  }, 60_000);

  it('refuses a library with no sm_90 image, which would run on no H100', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-sm90-'));
    const library = libraryWith(dir, [image(2, 80, 0xab)]);
    await expect(
      runPython(['models/cuda_sm90_only.py', library, path.join(dir, 'out.so')]),
    ).rejects.toThrow(/no sm_90 images \(archs \[80\]\)/);
  }, 60_000);
});
