/**
 * npm run eval -- --annotations avqa-test.json --predictions predictions.jsonl [--name TSPM]
 *                 [--json] [--allow-missing]
 *
 * Prints per-type, per-modality and overall accuracy in MUSIC-AVQA's test-script layout.
 */
import { parseArgs } from 'node:util';
import { readAnnotations } from '../datasets/musicavqa-annotations.js';
import { formatAccuracyReport, scoreAccuracy } from '../evaluation/accuracy.js';
import { readPredictions } from '../evaluation/predictions.js';

const USAGE =
  'usage: npm run eval -- --annotations FILE --predictions FILE [--name NAME] [--json] [--allow-missing]';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      annotations: { type: 'string' },
      predictions: { type: 'string' },
      name: { type: 'string', default: 'model' },
      json: { type: 'boolean', default: false },
      'allow-missing': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.annotations || !values.predictions) throw new Error(`missing arguments\n${USAGE}`);

  const [annotations, predictions] = await Promise.all([
    readAnnotations(values.annotations),
    readPredictions(values.predictions),
  ]);
  const report = scoreAccuracy(annotations, predictions, { allowMissing: values['allow-missing'] });
  console.log(
    values.json ? JSON.stringify(report, null, 2) : formatAccuracyReport(report, values.name),
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`eval: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
