/**
 * npm run synth -- --scenes N --seconds S --seed K --out DIR [--width W --height H --fps F]
 *                  [--questions-per-scene Q]
 *
 * Writes DIR/videos/*.mp4, DIR/truth/*.json (per-second ground truth), DIR/avqa-{train,val,test,all}.json
 * (MUSIC-AVQA format) and DIR/stats.json (counts, majority-answer baselines, timing).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  balanceQuestions,
  majorityBaselines,
  recordsOf,
  toAnnotations,
} from '../synth/question-dataset.js';
import { Random } from '../synth/random.js';
import { SOUNDFONTS, SOUNDFONT_NAMES, type SoundfontName } from '../synth/instrument-catalog.js';
import { synthesizeScenes } from '../synth/synthesize-scenes.js';
import { Progress } from './progress.js';

const USAGE =
  'usage: npm run synth -- --scenes N --seconds S --seed K --out DIR [--width 320] [--height 180] [--fps 8] [--questions-per-scene 12] [--soundfont csound]';

function positiveInteger(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required\n${USAGE}`);
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenes: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      fps: { type: 'string' },
      'questions-per-scene': { type: 'string' },
      soundfont: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  if (!values.out) throw new Error(`--out is required\n${USAGE}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`);
  const soundfont = values.soundfont;
  if (soundfont !== undefined && !(SOUNDFONT_NAMES as string[]).includes(soundfont))
    throw new Error(`--soundfont must be one of ${SOUNDFONT_NAMES.join(', ')}, got "${soundfont}"`);
  if (soundfont !== undefined && !existsSync(SOUNDFONTS[soundfont as SoundfontName]))
    throw new Error(
      `--soundfont ${soundfont}: ${SOUNDFONTS[soundfont as SoundfontName]} is missing (Debian: sudo apt-get install csound-soundfont)`,
    );
  const options = {
    ...(soundfont !== undefined && { soundfont: soundfont as SoundfontName }),
    scenes: positiveInteger('scenes', values.scenes),
    seconds: positiveInteger('seconds', values.seconds),
    seed,
    outDir: values.out,
    video: {
      width: positiveInteger('width', values.width, 320),
      height: positiveInteger('height', values.height, 180),
      fps: positiveInteger('fps', values.fps, 8),
    },
  };
  if (options.seconds < 3) throw new Error('--seconds must be at least 3');
  const perScene = positiveInteger('questions-per-scene', values['questions-per-scene'], 12);

  const started = performance.now();
  const progress = new Progress('synth', options.scenes, 'scenes');
  const scenes = await synthesizeScenes(options, (done) => progress.update(done));
  const annotations = toAnnotations(
    balanceQuestions(scenes, perScene, new Random(seed ^ 0x51ed270b)),
  );
  // avqa-all.json: every split, for scenes from a seed held out of training altogether.
  for (const split of ['train', 'val', 'test', 'all'] as const) {
    const records = recordsOf(annotations.filter((a) => split === 'all' || a.split === split));
    await writeFile(
      path.join(options.outDir, `avqa-${split}.json`),
      JSON.stringify(records, null, 1),
    );
  }
  const baselines = majorityBaselines(annotations);
  const seconds = (performance.now() - started) / 1000;
  await writeFile(
    path.join(options.outDir, 'stats.json'),
    JSON.stringify(
      {
        options,
        questions: annotations.length,
        majorityBaselines: baselines,
        wallSeconds: seconds,
      },
      null,
      1,
    ),
  );
  console.log(
    `synth: ${scenes.length} scenes, ${annotations.length} questions in ${seconds.toFixed(1)} s → ${options.outDir}`,
  );
  console.table(
    Object.fromEntries(
      baselines.map((b) => [
        b.type,
        {
          questions: b.questions,
          majority: b.majorityAnswer,
          'majority acc %': +(100 * b.majorityAccuracy).toFixed(1),
        },
      ]),
    ),
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`synth: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
