import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cudaRefusal, providerPlan } from '../server/encoders/execution-provider.js';
import { loadModel, tensor } from '../server/encoders/onnx-model.js';
import { runPython } from './support/run-cli.js';

interface ArrayEntry {
  file: string;
  dtype: 'float32' | 'bool' | 'int64';
  shape: number[];
}
interface Case {
  inputs: Record<string, ArrayEntry>;
  outputs: Record<string, ArrayEntry>;
}

function readArray(dir: string, entry: ArrayEntry): Float32Array | Uint8Array | BigInt64Array {
  const bytes = readFileSync(path.join(dir, entry.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (entry.dtype === 'int64') return new BigInt64Array(buffer);
  return entry.dtype === 'bool' ? new Uint8Array(buffer) : new Float32Array(buffer);
}

describe('QSTar head: PyTorch export replayed through onnxruntime-node', () => {
  let dir = '';
  let manifest: Record<string, { model: string; cases: Case[] }> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tutti-parity-'));
    await runPython(['models/qstar/export.py', 'parity', dir]);
    manifest = JSON.parse(readFileSync(path.join(dir, 'parity.json'), 'utf8')) as typeof manifest;
  }, 300_000);

  for (const variant of [
    'full',
    'late_fusion',
    'no_tfi_sti',
    'class_slots',
    'class_answers',
    'performers',
    'concepts',
    'performer_facts',
    'rank_words',
    'stage_rules',
    'sighted_hearing',
    'heard_count',
    'lookalikes',
    'stereo',
    'rates_in_view',
    'count_by_sight',
    // Session 17's wider audio stream: heads narrowed to the old width or reading the new
    // dimensions with zero weights answer as before; the joined audio encoder gives both parts.
    'narrowed',
    'widened',
    'joined',
  ]) {
    it(`${variant}: every output within 1e-4 of torch, for two window and question lengths and questions sharing windows`, async () => {
      const { session, provider } = await loadModel(path.join(dir, manifest[variant]!.model));
      expect(providerPlan().providers).toContain(provider);
      for (const testCase of manifest[variant]!.cases) {
        const feeds = Object.fromEntries(
          Object.entries(testCase.inputs).map(([name, entry]) => [
            name,
            tensor(readArray(dir, entry), entry.shape, entry.dtype === 'bool' ? 'bool' : undefined),
          ]),
        );
        const results = await session.run(feeds);
        for (const [name, entry] of Object.entries(testCase.outputs)) {
          const got = results[name]!;
          expect(got.dims).toEqual(entry.shape);
          const want = readArray(dir, entry) as Float32Array;
          const data = got.data as Float32Array;
          let worst = 0;
          for (let i = 0; i < want.length; i++)
            worst = Math.max(worst, Math.abs(data[i]! - want[i]!));
          expect(worst, `${variant} ${name}`).toBeLessThan(1e-4);
        }
      }
      await session.release();
    });
  }

  it('falls back from CUDA to the CPU where CUDA cannot load', async () => {
    const model = path.join(dir, manifest['full']!.model);
    const expected = cudaRefusal() ? 'cpu' : 'cuda';
    const { session, provider } = await loadModel(model, { providers: ['cuda', 'cpu'] });
    expect(provider).toBe(expected);
    await session.release();
  });

  it('says which providers failed when none can load a model', async () => {
    await expect(loadModel(path.join(dir, 'missing.onnx'), { providers: ['cpu'] })).rejects.toThrow(
      /cannot load .*missing\.onnx on any of cpu/,
    );
  });
});
