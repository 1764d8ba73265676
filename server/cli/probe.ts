/**
 * npm run probe -- --dataset SYNTH_DIR --features OUT/features --model DIR [--variant full]
 *                  [--split test|all] [--json]
 *
 * The instrument probe (server/evaluation/instrument-probe.ts): every scene of the split × 22
 * instruments × "Is there a X sound?" / "Is there a X in the entire video?", served through
 * onnxruntime-node like `npm run eval`, scored by balanced accuracy.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeQuestions, probeReport } from '../evaluation/instrument-probe.js';
import { Progress } from './progress.js';
import { predictWithModel } from '../evaluation/served-predictions.js';
import { splitOf } from '../synth/question-dataset.js';
import type { SceneTruth } from '../synth/ground-truth.js';

const USAGE =
  'usage: npm run probe -- --dataset DIR --features DIR --model DIR [--variant full] [--split test|all] [--json]';

const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      features: { type: 'string' },
      model: { type: 'string' },
      variant: { type: 'string', default: 'full' },
      split: { type: 'string', default: 'test' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.dataset || !values.features || !values.model)
    throw new Error(`--dataset, --features and --model are required\n${USAGE}`);
  if (values.split !== 'test' && values.split !== 'all')
    throw new Error(`--split must be test or all, got "${values.split}"\n${USAGE}`);
  const info = JSON.parse(await readFile(path.join(values.features, 'features.json'), 'utf8')) as {
    videos: string[];
  };
  // Scene ids count from 1 (sceneId); the split follows the scene's index.
  const videos = info.videos.filter(
    (id) => values.split === 'all' || splitOf(Number(id) - 1) === 'test',
  );
  const truths = await Promise.all(
    videos.map(
      async (id) =>
        JSON.parse(
          await readFile(path.join(values.dataset!, 'truth', `${id}.json`), 'utf8'),
        ) as SceneTruth,
    ),
  );
  const questions = probeQuestions(truths);
  const progress = new Progress('probe', questions.length, 'questions');
  const predictions = await predictWithModel(
    questions,
    values.features,
    values.model,
    values.variant,
    (done) => progress.update(done),
  );
  const report = probeReport(questions, predictions);
  if (values.json)
    return console.log(JSON.stringify({ scenes: videos.length, ...report }, null, 2));
  console.log(`instrument probe, ${videos.length} scenes × 22 instruments (balanced accuracy)`);
  for (const key of ['sound', 'sight', 'sightWithoutLookalikes', 'sightLookalikes'] as const) {
    const r = report[key];
    console.log(
      `${key.padEnd(24)} ${percent(r.balancedAccuracy)}  (yes recall ${percent(r.yesRecall)}, no recall ${percent(r.noRecall)}, ${r.questions} questions)`,
    );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`probe: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
