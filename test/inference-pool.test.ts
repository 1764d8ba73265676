/** Several inference workers behind one face (TUTTI_INFERENCE_WORKERS), on the shipped tiny profile. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceClient, type InferenceHealth } from '../server/encoders/inference-client.js';
import { InferencePool, threadsPerWorker, threadsSaid } from '../server/encoders/inference-pool.js';
import { questionTokenizer, readManifest } from '../server/encoders/model-manifest.js';
import { FeatureWindow } from '../server/windows/feature-window.js';
import { maxAbsDifference } from './support/frontend-fixtures.js';
import { patternImage } from './support/pattern-image.js';
import { REPO_ROOT } from './support/musicavqa.js';

const PROFILE = path.join(REPO_ROOT, 'models', 'tiny');
const init = { profile: PROFILE, variant: 'full', threads: 1 };
const frame = { width: 320, height: 180, data: patternImage(320, 180) };
const segment = (k: number) =>
  Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin((i * (k + 2)) / 9));
const QUESTIONS = ['Is there a flute sound?', 'How many instruments are sounding in the video?'];

describe('InferencePool', () => {
  it('answers as one worker does, from one window sent once, and spreads requests over its workers', async () => {
    const tokenize = questionTokenizer(readManifest(PROFILE));
    const ids = QUESTIONS.map(tokenize);
    const [pool, single] = await Promise.all([
      InferencePool.start(init, {}, 2),
      InferenceClient.start(init),
    ]);
    try {
      expect(pool).toBeInstanceOf(InferencePool);
      // A start line names the threads the workers were given, not what the count would give.
      expect([pool, single].map((inference) => threadsSaid(inference))).toEqual([
        ['1 onnxruntime thread each'],
        ['1 onnxruntime thread each'],
      ]);
      expect(threadsSaid({ threads: undefined })).toEqual([]);
      const fromPool = new FeatureWindow(4);
      const fromSingle = new FeatureWindow(4);
      // Four segments at once: the least busy worker takes each, so both get some.
      const encoded = await Promise.all([0, 1, 2, 3].map((k) => pool.encode(segment(k), frame)));
      for (const [k, { features }] of encoded.entries()) {
        const alone = (await single.encode(segment(k), frame)).features;
        expect(maxAbsDifference(features.audio.data, alone.audio.data)).toBeLessThan(1e-5);
        expect(maxAbsDifference(features.patches.data, alone.patches.data)).toBeLessThan(1e-5);
        fromPool.push(k, k, features);
        fromSingle.push(k, k, alone);
      }
      // The pool gets the window once (the head gathers it); the single client one per question.
      const pooled = await pool.answer(fromPool.single(), ids);
      const repeated = await single.answer(fromSingle.batch(ids.length), ids);
      expect(pooled.probabilities.length).toBe(ids.length * 42);
      expect(maxAbsDifference(pooled.probabilities, repeated.probabilities)).toBeLessThan(1e-5);
      const perWorker = (pool as InferencePool).workerUsage().map((u) => u.requests);
      expect(perWorker.every((requests) => requests >= 1)).toBe(true);
      expect(pool.usage().requests).toBe(5);
    } finally {
      await Promise.all([pool.close(), single.close()]);
    }
  }, 60_000);

  it('is restarting while one of its workers restarts, and counts the restarts of all', async () => {
    const changes: InferenceHealth[] = [];
    const pool = await InferencePool.start(
      { profile: 'none', variant: 'die' },
      {
        workerUrl: new URL('./support/misbehaving-worker.mjs', import.meta.url),
        onHealth: (health) => changes.push(health),
      },
      2,
    );
    await expect(pool.encode(segment(0), frame)).rejects.toThrow(/it exited \(3\)/);
    expect(pool.status()).toMatchObject({ state: 'restarting', restarts: 1 });
    for (let k = 0; k < 200 && pool.status().state !== 'ready'; k++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(pool.status()).toEqual({ state: 'ready', restarts: 1 });
    await pool.close();
  });

  it('refuses a count that is no whole number ≥ 1, and fails when its workers cannot load', async () => {
    await expect(InferencePool.start(init, {}, 0)).rejects.toThrow(
      /inference workers must be a whole number ≥ 1, not 0/,
    );
    await expect(
      InferencePool.start({ profile: '/nonexistent/profile', variant: 'full' }, {}, 2),
    ).rejects.toThrow(/nonexistent/);
  });

  it('shares the cores out among its workers, one onnxruntime pool each, unless told (TUTTI_ONNX_THREADS)', () => {
    expect(threadsPerWorker(1, undefined, 16)).toBeUndefined(); // onnxruntime's own choice
    expect(threadsPerWorker(8, undefined, 16)).toBe(2);
    expect(threadsPerWorker(12, undefined, 16)).toBe(1);
    expect(threadsPerWorker(2, undefined, 2)).toBe(1);
    expect(threadsPerWorker(4, undefined, 2)).toBe(1);
    expect(threadsPerWorker(8, '3', 16)).toBe(3);
    expect(threadsPerWorker(1, '1', 16)).toBe(1);
    expect(threadsPerWorker(8, '0', 16)).toBeUndefined();
    for (const bad of ['two', '-1', '1.5', ''])
      expect(() => threadsPerWorker(2, bad, 16)).toThrow(
        `TUTTI_ONNX_THREADS must be a whole number ≥ 0, not "${bad}"`,
      );
  });

  it('npm start takes TUTTI_INFERENCE_WORKERS: says how many, and their threads, on its start line, refuses 0', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'tutti-workers-'));
    const env = (workers: string, more: Record<string, string> = {}) => ({
      ...process.env,
      TUTTI_INFERENCE_WORKERS: workers,
      TUTTI_PORT: '0',
      TUTTI_DB: path.join(scratch, `${workers}.sqlite`),
      ...more,
    });
    for (const [environment, message] of [
      [env('0'), 'TUTTI_INFERENCE_WORKERS must be a whole number ≥ 1, not "0"'],
      [
        env('2', { TUTTI_ONNX_THREADS: 'two' }),
        'TUTTI_ONNX_THREADS must be a whole number ≥ 0, not "two"',
      ],
    ] as const) {
      const refused = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
        cwd: REPO_ROOT,
        env: environment,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`tutti: cannot start: ${message}`);
    }

    const monitor = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: REPO_ROOT,
      env: env('2'),
    });
    let output = '';
    monitor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (let k = 0; k < 600 && !/model profile .* \(2 workers/.test(output); k++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const threads = Math.max(1, Math.floor(availableParallelism() / 2));
      expect(output).toContain(
        `model profile tiny (full) on cpu (2 workers, ${threads} onnxruntime thread${threads > 1 ? 's' : ''} each)`,
      );
    } finally {
      monitor.kill('SIGTERM');
    }
  }, 60_000);
});
