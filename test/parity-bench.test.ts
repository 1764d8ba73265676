/**
 * The parity bench (`npm run bench -- --profile DIR --parity`) that a GPU session runs in one call
 * (models/gpu-onnx.sh ab): here on the CPU, where the front-end graphs differ from TypeScript by
 * their float32 rounding and every encoder and the head equal themselves.
 */
import { describe, expect, it } from 'vitest';
import { benchParity } from './bench/parity.bench.js';
import { repoPath } from './support/run-cli.js';

describe('the parity bench', () => {
  it('compares the front-end graphs with TypeScript and the provider with the CPU, row by row', async () => {
    const { provider, rows } = await benchParity(repoPath('models/tiny'));
    expect(provider).toBe('cpu');
    const row = (what: string) => rows.find((r) => r.what.startsWith(what))!;
    expect(rows.map((r) => r.what.split(' on ')[0])).toEqual([
      'audio graph',
      'audio graph',
      'pictures graph',
      'ast encoder',
      'audio encoder',
      'frame encoder',
      'patches encoder',
      'head',
      'head',
    ]);
    // The graphs are float32 against TypeScript's float64: close, not equal.
    expect(row('audio graph on cpu: fbank').maxAbs).toBeGreaterThan(0);
    expect(row('audio graph on cpu: fbank').maxAbs).toBeLessThan(1e-3);
    expect(row('audio graph on cpu: log-mel').maxAbs).toBeLessThan(1e-3);
    expect(row('pictures graph').maxAbs).toBeLessThan(1e-5);
    for (const r of rows.filter((r) => r.against === 'cpu')) expect(r.maxAbs, r.what).toBe(0);
  }, 60_000);
});
