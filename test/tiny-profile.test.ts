/**
 * The shipped `tiny` profile (models/tiny): it loads, and served through onnxruntime-node on
 * scenes it never saw (a seed the training set did not use) it answers well above the answer
 * prior.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../server/encoders/model-manifest.js';
import { QStarAnswerer } from '../server/encoders/qstar-answerer.js';
import { extract, repoPath, runCli } from './support/run-cli.js';

const PROFILE = repoPath('models', 'tiny');

describe('shipped tiny profile', () => {
  it('loads with every variant the manifest names', async () => {
    const manifest = readManifest(PROFILE);
    expect(Object.keys(manifest.variants)).toEqual(
      expect.arrayContaining(['full', 'clean', 'no_tfi', 'late_fusion']),
    );
    for (const variant of Object.keys(manifest.variants)) {
      const answerer = await QStarAnswerer.load(manifest, variant);
      await answerer.release();
    }
  });

  describe('on unseen scenes', () => {
    let work = '';
    beforeAll(async () => {
      work = mkdtempSync(path.join(tmpdir(), 'tutti-heldout-'));
      const synth = path.join(work, 'synth');
      await runCli('synth', [
        '--scenes',
        '30',
        '--seconds',
        '10',
        '--seed',
        '4242',
        '--questions-per-scene',
        '20',
        '--out',
        synth,
      ]);
      await extract(synth, path.join(work, 'out'), PROFILE);
    }, 300_000);

    it('answers far better than always giving each type its most common answer', async () => {
      const { stdout } = await runCli('eval', [
        '--annotations',
        path.join(work, 'synth', 'avqa-train.json'),
        '--features',
        path.join(work, 'out', 'features'),
        '--model',
        PROFILE,
        '--json',
      ]);
      const report = JSON.parse(stdout) as { overall: { correct: number; total: number } };
      const stats = JSON.parse(readFileSync(path.join(work, 'synth', 'stats.json'), 'utf8')) as {
        majorityBaselines: Array<{ questions: number; majorityAccuracy: number }>;
      };
      const prior =
        stats.majorityBaselines.reduce((sum, b) => sum + b.questions * b.majorityAccuracy, 0) /
        stats.majorityBaselines.reduce((sum, b) => sum + b.questions, 0);
      const accuracy = report.overall.correct / report.overall.total;
      expect(report.overall.total).toBeGreaterThan(200);
      // Shipped: 78.8 % on held-out seeds 101/102 against a template prior of 39.8 % (README);
      // the previous encoders scored 0.495 here against 0.315.
      expect(accuracy, `held-out accuracy ${accuracy}, majority prior ${prior}`).toBeGreaterThan(
        prior + 0.2,
      );
    }, 120_000);
  });
});
