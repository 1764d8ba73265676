/**
 * The tiny profile's whole training path, in miniature (CI's smoke run): synthetic scenes →
 * TypeScript front-end → encoder pretraining → ONNX encoders through onnxruntime-node → head
 * training → ONNX head → served evaluation. A few steps each; it checks the path, not accuracy.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../server/encoders/model-manifest.js';
import { REPO_ROOT } from './support/musicavqa.js';

const run = promisify(execFile);
const tsx = (script: string, args: string[]) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 24,
  });
const python = (args: string[]) =>
  run('/usr/bin/python3', ['-W', 'ignore', 'models/qstar/train.py', ...args], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 24,
  });

describe('tiny profile training path (smoke)', () => {
  let work = '';
  let profile = '';

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'tutti-tiny-'));
    profile = path.join(work, 'profile');
    await tsx('server/cli/synth.ts', [
      '--scenes',
      '10',
      '--seconds',
      '4',
      '--seed',
      '11',
      '--out',
      path.join(work, 'synth'),
    ]);
    await tsx('server/cli/extract.ts', [
      '--dataset',
      path.join(work, 'synth'),
      '--out',
      path.join(work, 'out'),
    ]);
  }, 240_000);

  it('pretrains and exports the encoders, extracts features, trains and exports the head, and serves it', async () => {
    await python([
      'encoders',
      '--frontend',
      path.join(work, 'out', 'frontend'),
      '--dataset',
      path.join(work, 'synth'),
      '--out',
      profile,
      '--epochs',
      '1',
      '--max-steps',
      '2',
    ]);
    for (const file of ['tiny-ast.onnx', 'tiny-audio.onnx', 'tiny-frame.onnx'])
      expect(existsSync(path.join(profile, file)), file).toBe(true);

    const manifest = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'models', 'tiny', 'manifest.json'), 'utf8'),
    ) as { variants: Record<string, unknown> };
    copyFileSync(
      path.join(REPO_ROOT, 'models', 'tiny', 'manifest.json'),
      path.join(profile, 'manifest.json'),
    );
    await tsx('server/cli/extract.ts', [
      '--dataset',
      path.join(work, 'synth'),
      '--out',
      path.join(work, 'out'),
      '--stage',
      'features',
      '--profile',
      profile,
    ]);
    const features = path.join(work, 'out', 'features');
    const questions = JSON.parse(
      readFileSync(path.join(features, 'questions-train.json'), 'utf8'),
    ) as Array<{ ids: number[]; answer: number }>;
    expect(questions.length).toBeGreaterThan(10);

    const { stdout } = await python([
      'head',
      '--features',
      features,
      '--out',
      profile,
      '--epochs',
      '1',
      '--max-steps',
      '2',
      '--checkpoints',
      work,
    ]);
    expect(stdout).toMatch(/full epoch 1\/1: loss [\d.]+, val accuracy/);
    expect(Object.keys(manifest.variants)).toContain('full');

    expect(readManifest(profile).profile).toBe('tiny');
    const evaluate = (variant: string) =>
      tsx('server/cli/eval.ts', [
        '--annotations',
        path.join(work, 'synth', 'avqa-test.json'),
        '--features',
        features,
        '--model',
        profile,
        '--variant',
        variant,
      ]);
    const { stdout: table } = await evaluate('full');
    expect(table).toMatch(/Overall Accuracy: \d+\.\d\d %/);
    // Only the full variant was trained here: asking for another names what is missing.
    await expect(evaluate('no_tfi')).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /variant no_tfi, names missing files: tiny-question-no_tfi\.onnx, qstar-tiny-no_tfi\.onnx/,
      ),
    });
  }, 240_000);
});
