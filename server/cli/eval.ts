/**
 * npm run eval -- --annotations avqa-test.json --predictions predictions.jsonl [--name TSPM]
 *                 [--json] [--allow-missing]
 * npm run eval -- --annotations DIR/avqa-test.json --features OUT/features --model models/tiny
 *                 [--variant full] [--write-predictions FILE]
 * npm run eval -- --annotations DIR/avqa-test.json --template-prior TRAIN/avqa-train.json
 *                 (each template's most common training answer: the prior that neither looks nor listens)
 *
 * Prints per-type, per-modality and overall accuracy in MUSIC-AVQA's test-script layout, of a
 * predictions file or of a model profile served through onnxruntime-node on extracted features.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { predictWithModel } from '../evaluation/served-predictions.js';
import { Progress } from './progress.js';
import { readAnnotations } from '../datasets/musicavqa-annotations.js';
import { formatAccuracyReport, scoreAccuracy } from '../evaluation/accuracy.js';
import { readPredictions } from '../evaluation/predictions.js';
import { templatePriorPredictions } from '../evaluation/template-prior.js';

const USAGE =
  'usage: npm run eval -- --annotations FILE (--predictions FILE | --features DIR --model DIR [--variant NAME] [--write-predictions FILE] | --template-prior TRAIN_FILE) [--name NAME] [--json] [--allow-missing]';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      annotations: { type: 'string' },
      predictions: { type: 'string' },
      name: { type: 'string', default: 'model' },
      json: { type: 'boolean', default: false },
      'allow-missing': { type: 'boolean', default: false },
      features: { type: 'string' },
      model: { type: 'string' },
      variant: { type: 'string', default: 'full' },
      'write-predictions': { type: 'string' },
      'template-prior': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const served = values.features !== undefined && values.model !== undefined;
  const prior = values['template-prior'];
  if (!values.annotations || (!values.predictions && !served && !prior))
    throw new Error(`missing arguments\n${USAGE}`);

  const annotations = await readAnnotations(values.annotations);
  let progress: Progress | undefined;
  const predictions = served
    ? await predictWithModel(
        annotations,
        values.features!,
        values.model!,
        values.variant,
        (done, total) => (progress ??= new Progress('eval', total, 'questions')).update(done),
      )
    : prior
      ? templatePriorPredictions(await readAnnotations(prior), annotations)
      : await readPredictions(values.predictions!);
  if (values['write-predictions']) {
    const lines = [...predictions].map(([id, answer]) =>
      JSON.stringify({ question_id: id, answer }),
    );
    await writeFile(values['write-predictions'], lines.join('\n') + '\n');
  }
  const report = scoreAccuracy(annotations, predictions, { allowMissing: values['allow-missing'] });
  console.log(
    values.json ? JSON.stringify(report, null, 2) : formatAccuracyReport(report, values.name),
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`eval: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
