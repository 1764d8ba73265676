/**
 * npm run extract -- --dataset DIR --out DIR [--stage frontend|features|stereo] [--profile models/tiny]
 *
 * frontend: decodes every DIR/videos/*.mp4 with ffmpeg and runs the TypeScript front-end per
 *   one-second segment (the same code the live monitor runs) → OUT/frontend/{fbank,logmel,pixels}.npy
 *   and videos.json. These train the tiny profile's encoders. With --profile, frames are made
 *   as that profile's encoders take them (the paper profile: CLIP's crop at its resolution).
 * features: runs the profile's ONNX encoders over OUT/frontend → OUT/features/*.npy, the
 *   per-segment features QSTar's head trains and is evaluated on. With --counterfactual
 *   silent-audio|black-picture|swap-audio the front-end is altered first and the features go to
 *   OUT/features-<counterfactual> (evaluate them with npm run eval as usual). A profile whose
 *   questions go through a frozen text tower (CLIP's, the paper profile) also gets each split's
 *   question features, OUT/features/{words,sentence}-<split>.npy, for train.py head.
 *   Clean, degraded and black-picture features also get stereo.npy, each second's mel-band power
 *   per channel (the head's `stereo` input; silent or swapped audio does not: the head then hears
 *   it as mono). stereo: writes only that file (with --degrade, through the room), beside
 *   features extracted before it existed.
 * --degrade reverb|noise|mic-eq|level|codec (joined by +) or all: the room and microphone a real
 *   stage adds (server/evaluation/room-degradations.ts), drawn per video from --degrade-seed;
 *   the front-end goes to OUT/frontend-<degrade> and the features to OUT/features-<degrade>.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SEGMENT_SAMPLES,
  segmentFrontend,
  type FrontendSpec,
} from '../features/segment-frontend.js';
import { NpyWriter } from '../datasets/npy-writer.js';
import { Progress } from './progress.js';
import { writeStereoFeatures, type StereoDegrade } from './stereo-features.js';
import {
  applyCounterfactual,
  isCounterfactual,
  type Counterfactual,
} from '../evaluation/counterfactuals.js';
import { decodeAudio, decodeSegmentFrames } from '../sources/decode-media-file.js';
import { degradeClip, parseDegradations } from '../evaluation/degrade-clip.js';
import type { DegradationSettings } from '../evaluation/room-degradations.js';
import { Random } from '../synth/random.js';
import { readAnnotations } from '../datasets/musicavqa-annotations.js';
import { readNpy } from '../datasets/npy-reader.js';
import { questionTokenizer, readManifest, type ModelManifest } from '../encoders/model-manifest.js';
import { encodeQuestionTexts } from '../encoders/question-text-features.js';
import { SegmentEncoders } from '../encoders/segment-encoders.js';
import {
  QUESTION_VOCABULARY,
  answerIndex,
  parseQuestion,
  typeKey,
} from '../../shared/question-space/index.js';

const USAGE =
  'usage: npm run extract -- --dataset DIR --out DIR [--stage frontend|features|stereo] [--profile DIR] [--counterfactual silent-audio|black-picture|swap-audio] [--degrade all|reverb+noise+mic-eq+level+codec] [--degrade-seed N]';
export const TINY_FRONTEND: FrontendSpec = { astFrames: 100, frameWidth: 128, frameHeight: 64 };

/** A degraded front-end: which degradations, and the seed their per-video settings come from. */
interface DegradeOption {
  readonly spec: string;
  readonly seed: number;
}

const frontendName = (degrade?: DegradeOption) =>
  degrade ? `frontend-${degrade.spec}` : 'frontend';

async function extractFrontend(
  dataset: string,
  out: string,
  spec: FrontendSpec,
  degrade?: DegradeOption,
): Promise<void> {
  const kinds = degrade ? parseDegradations(degrade.spec) : [];
  const videos = (await readdir(path.join(dataset, 'videos')))
    .filter((name) => name.endsWith('.mp4'))
    .sort();
  if (videos.length === 0) throw new Error(`no .mp4 files in ${path.join(dataset, 'videos')}`);
  const first = await decodeAudio(path.join(dataset, 'videos', videos[0]!));
  const segments = Math.floor(first.length / SEGMENT_SAMPLES);
  const dir = path.join(out, frontendName(degrade));
  await mkdir(dir, { recursive: true });
  const applied: Record<string, DegradationSettings[]> = {};
  const count = videos.length;
  const fbank = await NpyWriter.create(path.join(dir, 'fbank.npy'), 'Float32Array', [
    count,
    segments,
    spec.astFrames,
    128,
  ]);
  const logMel = await NpyWriter.create(path.join(dir, 'logmel.npy'), 'Float32Array', [
    count,
    segments,
    96,
    64,
  ]);
  const pixels = await NpyWriter.create(path.join(dir, 'pixels.npy'), 'Uint8Array', [
    count,
    segments,
    spec.frameHeight,
    spec.frameWidth,
    3,
  ]);
  const started = performance.now();
  const progress = new Progress('extract front-end', count, 'videos');
  // Decode the next video while the front-end works on this one.
  const decode = async (name: string, index: number) => {
    const [clean, frames] = await Promise.all([
      decodeAudio(path.join(dataset, 'videos', name)),
      decodeSegmentFrames(path.join(dataset, 'videos', name)),
    ]);
    if (!degrade) return [clean, frames] as const;
    const degraded = await degradeClip(clean, kinds, 16_000, Random.forItem(degrade.seed, index));
    applied[name.replace('.mp4', '')] = degraded.applied;
    return [degraded.samples, frames] as const;
  };
  let next = decode(videos[0]!, 0);
  for (const [k, name] of videos.entries()) {
    const [audio, frames] = await next;
    if (k + 1 < videos.length) next = decode(videos[k + 1]!, k + 1);
    if (audio.length < segments * SEGMENT_SAMPLES || frames.length < segments) {
      throw new Error(
        `${name}: ${audio.length / SEGMENT_SAMPLES} s of audio and ${frames.length} frames; every video needs ${segments} s`,
      );
    }
    for (let s = 0; s < segments; s++) {
      const segment = segmentFrontend(
        audio.subarray(s * SEGMENT_SAMPLES, (s + 1) * SEGMENT_SAMPLES),
        frames[s]!,
        spec,
      );
      await fbank.append(segment.fbank);
      await logMel.append(segment.logMel);
      await pixels.append(segment.pixels);
    }
    progress.update(k + 1);
  }
  await Promise.all([fbank.close(), logMel.close(), pixels.close()]);
  await writeFile(
    path.join(dir, 'videos.json'),
    JSON.stringify({ spec, segments, videos: videos.map((v) => v.replace('.mp4', '')) }, null, 1),
  );
  if (degrade)
    await writeFile(
      path.join(dir, 'degradations.json'),
      JSON.stringify({ degrade: degrade.spec, seed: degrade.seed, applied }, null, 1),
    );
  console.log(
    `extract: front-end of ${count} videos × ${segments} s → ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

const SPLITS = ['train', 'val', 'test'] as const;

async function extractFeatures(
  dataset: string,
  out: string,
  profile: string,
  counterfactual?: Counterfactual,
  degrade?: DegradeOption,
): Promise<void> {
  const manifest = readManifest(profile);
  const frontendDir = path.join(out, frontendName(degrade));
  const index = JSON.parse(await readFile(path.join(frontendDir, 'videos.json'), 'utf8')) as {
    spec: FrontendSpec;
    segments: number;
    videos: string[];
  };
  assertFrontendFits(index.spec, manifest, frontendDir);
  const [fbank, logMel, pixels] = await Promise.all(
    ['fbank', 'logmel', 'pixels'].map((name) => readNpy(path.join(frontendDir, `${name}.npy`))),
  );
  if (counterfactual) {
    applyCounterfactual(
      counterfactual,
      {
        fbank: fbank!.data as Float32Array,
        logMel: logMel!.data as Float32Array,
        pixels: pixels!.data as Uint8Array,
        videos: index.videos.length,
        segments: index.segments,
      },
      index.spec,
    );
    console.log(`extract: counterfactual ${counterfactual} applied to the front-end`);
  }
  const encoders = await SegmentEncoders.load(manifest);
  console.log(`extract: encoders of profile ${manifest.profile} on ${encoders.provider}`);
  const total = index.videos.length * index.segments;
  const per = {
    fbank: fbank!.data.length / total,
    logMel: logMel!.data.length / total,
    pixels: pixels!.data.length / total,
  };
  const altered = counterfactual ?? degrade?.spec;
  const dir = path.join(out, altered ? `features-${altered}` : 'features');
  await mkdir(dir, { recursive: true });
  let writers: Record<string, NpyWriter> | undefined;
  const started = performance.now();
  const progress = new Progress('extract features', total, 'segments');
  const BATCH = 250;
  for (let from = 0; from < total; from += BATCH) {
    const count = Math.min(BATCH, total - from);
    progress.update(from);
    const features = await encoders.encode({
      count,
      fbank: (fbank!.data as Float32Array).subarray(from * per.fbank, (from + count) * per.fbank),
      logMel: (logMel!.data as Float32Array).subarray(
        from * per.logMel,
        (from + count) * per.logMel,
      ),
      pixels: (pixels!.data as Uint8Array).subarray(from * per.pixels, (from + count) * per.pixels),
    });
    const outputs = {
      frames: features.frame,
      patches: features.patches,
      audio: features.audio,
      ast: features.ast,
    };
    if (!writers) {
      const shape = (dims: readonly number[]) => [
        index.videos.length,
        index.segments,
        ...dims.slice(1),
      ];
      const entries = Object.entries(outputs).map(
        async ([name, output]) =>
          [
            name,
            await NpyWriter.create(
              path.join(dir, `${name}.npy`),
              'Float32Array',
              shape(output.dims),
            ),
          ] as const,
      );
      writers = Object.fromEntries(await Promise.all(entries));
    }
    for (const [name, output] of Object.entries(outputs)) {
      await writers[name]!.append(output.data);
    }
  }
  progress.update(total);
  await Promise.all(Object.values(writers!).map((writer) => writer.close()));
  await encoders.release();

  const videoIndex = new Map(index.videos.map((id, i) => [id, i]));
  const tokenize = questionTokenizer(manifest);
  for (const split of SPLITS) {
    const annotations = await readAnnotations(path.join(dataset, `avqa-${split}.json`));
    const sentences = annotations.map((a) => parseQuestion(a.question, a.templateValues).sentence);
    const questions = annotations.map((a, q) => {
      const video = videoIndex.get(a.videoId);
      const answer = answerIndex(a.answer);
      if (video === undefined)
        throw new Error(`question ${a.questionId}: no features for video ${a.videoId}`);
      if (answer === undefined)
        throw new Error(`question ${a.questionId}: answer "${a.answer}" is not one of the 42`);
      return {
        question_id: a.questionId,
        type: typeKey(a.type),
        video,
        ids: tokenize(sentences[q]!),
        answer,
      };
    });
    await writeFile(path.join(dir, `questions-${split}.json`), JSON.stringify(questions));
    if (manifest.clipMerges) await writeQuestionTexts(manifest, sentences, dir, split);
  }
  const questionEncoder = manifest.clipMerges
    ? { questionFeatures: 'text-tower' }
    : { vocabulary: QUESTION_VOCABULARY };
  await writeFile(
    path.join(dir, 'features.json'),
    JSON.stringify({ profile: manifest.profile, ...questionEncoder, ...index }, null, 1),
  );
  console.log(
    `extract: features of ${total} segments → ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  // A black picture leaves the sound as it is; a room degrades both channels; altered audio
  // (silent, swapped) is heard as mono.
  if (!counterfactual || counterfactual === 'black-picture')
    await writeStereoFeatures(dataset, dir, degrade && (await stereoDegrade(out, degrade)));
}

/**
 * The room both channels take: the draws of the mono front-end through it (its degradations.json
 * names the seed; the features stage is not told it again), else --degrade-seed.
 */
async function stereoDegrade(out: string, degrade: DegradeOption): Promise<StereoDegrade> {
  const file = path.join(out, frontendName(degrade), 'degradations.json');
  const seed = existsSync(file)
    ? (JSON.parse(await readFile(file, 'utf8')) as { seed: number }).seed
    : degrade.seed;
  return { kinds: parseDegradations(degrade.spec), seed };
}

/** Pixels made for one frame size cannot feed an encoder that takes another. */
function assertFrontendFits(spec: FrontendSpec, manifest: ModelManifest, dir: string): void {
  const wants = manifest.frontend;
  const fits =
    spec.astFrames === wants.astFrames &&
    spec.frameWidth === wants.frameWidth &&
    spec.frameHeight === wants.frameHeight &&
    (spec.frameResize ?? 'squash') === wants.frameResize;
  if (!fits)
    throw new Error(
      `${dir} was made for ${spec.frameWidth}×${spec.frameHeight} frames (${spec.frameResize ?? 'squash'}), ` +
        `${spec.astFrames} AST frames; profile ${manifest.profile} takes ${wants.frameWidth}×${wants.frameHeight} ` +
        `(${wants.frameResize}), ${wants.astFrames}: extract the front-end with --profile ${manifest.directory}`,
    );
}

/** The frozen text tower's features of a split's questions, in the questions' order. */
async function writeQuestionTexts(
  manifest: ModelManifest,
  sentences: readonly string[],
  dir: string,
  split: string,
): Promise<void> {
  const texts = await encodeQuestionTexts(manifest, sentences);
  const write = async (name: string, data: Float32Array, shape: number[]) => {
    const writer = await NpyWriter.create(
      path.join(dir, `${name}-${split}.npy`),
      'Float32Array',
      shape,
    );
    await writer.append(data);
    await writer.close();
  };
  await write('words', texts.words, [sentences.length, texts.width, texts.dim]);
  await write('sentence', texts.sentence, [sentences.length, texts.dim]);
  console.log(
    `extract: ${split} questions through ${manifest.profile}'s text tower (${texts.dim} wide)`,
  );
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      out: { type: 'string' },
      stage: { type: 'string', default: 'frontend' },
      profile: { type: 'string' },
      counterfactual: { type: 'string' },
      degrade: { type: 'string' },
      'degrade-seed': { type: 'string', default: '7' },
    },
  });
  const counterfactual = values.counterfactual;
  if (counterfactual !== undefined && !isCounterfactual(counterfactual))
    throw new Error(`unknown --counterfactual "${counterfactual}"\n${USAGE}`);
  if (!values.dataset || !values.out) throw new Error(`--dataset and --out are required\n${USAGE}`);
  let degrade: DegradeOption | undefined;
  if (values.degrade !== undefined) {
    parseDegradations(values.degrade); // refuses an unknown name before any work
    const seed = Number(values['degrade-seed']);
    if (!Number.isInteger(seed)) throw new Error(`--degrade-seed must be an integer\n${USAGE}`);
    if (counterfactual) throw new Error(`--degrade and --counterfactual do not combine\n${USAGE}`);
    degrade = { spec: values.degrade, seed };
  }
  if (values.stage === 'frontend') {
    const spec = values.profile ? readManifest(values.profile).frontend : TINY_FRONTEND;
    return extractFrontend(values.dataset, values.out, spec, degrade);
  }
  if (values.stage === 'features') {
    const profile = values.profile ?? 'models/tiny';
    return extractFeatures(values.dataset, values.out, profile, counterfactual, degrade);
  }
  if (values.stage === 'stereo') {
    const dir = path.join(values.out, degrade ? `features-${degrade.spec}` : 'features');
    return writeStereoFeatures(
      values.dataset,
      dir,
      degrade && (await stereoDegrade(values.out, degrade)),
    );
  }
  throw new Error(`unknown --stage "${values.stage}"\n${USAGE}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`extract: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
