/** Several inference workers behind one face (TUTTI_INFERENCE_WORKERS), on the shipped tiny profile. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceClient, type InferenceHealth } from '../server/encoders/inference-client.js';
import { InferencePool } from '../server/encoders/inference-pool.js';
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
      // The pool gets the window once (the worker repeats it); the single client one per question.
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

  it('npm start takes TUTTI_INFERENCE_WORKERS: says how many on its start line, refuses 0', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'tutti-workers-'));
    const env = (workers: string) => ({
      ...process.env,
      TUTTI_INFERENCE_WORKERS: workers,
      TUTTI_PORT: '0',
      TUTTI_DB: path.join(scratch, `${workers}.sqlite`),
    });
    const refused = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: REPO_ROOT,
      env: env('0'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      'tutti: cannot start: TUTTI_INFERENCE_WORKERS must be a whole number ≥ 1, not "0"',
    );

    const monitor = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: REPO_ROOT,
      env: env('2'),
    });
    let output = '';
    monitor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (let k = 0; k < 600 && !/model profile .* \(2 workers\)/.test(output); k++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(output).toMatch(/model profile tiny \(full\) on cpu \(2 workers\)/);
    } finally {
      monitor.kill('SIGTERM');
    }
  }, 60_000);
});
