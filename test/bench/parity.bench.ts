/**
 * `npm run bench -- --profile DIR --parity`: what the provider computes against the references,
 * for a GPU session to check in one call what the CPU tests check here (issue #15 §3): the front-end
 * graphs against the TypeScript front-end (stated tolerance 1e-3; Pillow's bytes for pictures),
 * and each encoder and the head on the provider against onnxruntime's CPU provider on the same
 * inputs (on the CPU itself those compare a provider with itself: 0). Each row gives the largest
 * |difference| and that over the reference's largest |value|.
 */
import { readManifest, questionTokenizer } from '../../server/encoders/model-manifest.js';
import type { LoadOptions } from '../../server/encoders/onnx-model.js';
import { QStarAnswerer } from '../../server/encoders/qstar-answerer.js';
import {
  SegmentEncoders,
  splitFeatures,
  stackSegments,
} from '../../server/encoders/segment-encoders.js';
import {
  AUDIO_GRAPH_AST_FRAMES,
  AudioFrontendGraph,
} from '../../server/features/audio-frontend-graph.js';
import { PicturesFrontendGraph } from '../../server/features/pictures-frontend-graph.js';
import { concatFloats } from '../../server/features/concatenate.js';
import { SEGMENT_SAMPLES, segmentFrontend } from '../../server/features/segment-frontend.js';
import {
  CLIP_PREPROCESSING,
  normalisePixels,
} from '../../server/features/video/clip-preprocess.js';
import { FeatureWindow } from '../../server/windows/feature-window.js';
import { patternImage } from '../support/pattern-image.js';
import { BENCH_QUESTIONS } from './bench-questions.js';

export interface ParityRow {
  readonly what: string;
  readonly against: string;
  readonly maxAbs: number;
  /** maxAbs over the reference's largest |value|. */
  readonly relative: number;
}

function compare(what: string, against: string, got: Float32Array, want: Float32Array): ParityRow {
  if (got.length !== want.length)
    throw new Error(`${what}: ${got.length} values against ${want.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { what, against, maxAbs, relative: scale > 0 ? maxAbs / scale : maxAbs };
}

/** A chord, a whisper of noise, silence and a clipped square wave: 1 s each at 16 kHz. */
function testSegments(): Float32Array[] {
  let state = 9;
  const at = (f: (i: number) => number) =>
    Float32Array.from({ length: SEGMENT_SAMPLES }, (_, i) => f(i));
  return [
    at((i) => 0.2 * (Math.sin(i / 7) + Math.sin(i / 5.3) + Math.sin(i / 3.1))),
    at(() => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 1e-4),
    at(() => 0),
    at((i) => (Math.sin((2 * Math.PI * 97 * i) / 16_000) >= 0 ? 1 : -1)),
  ];
}

export async function benchParity(directory: string) {
  const manifest = readManifest(directory);
  const { frontend } = manifest;
  const cpu: LoadOptions = { choice: 'cpu' };
  const rows: ParityRow[] = [];
  const samples = testSegments();
  const frames = [0, 1].map((i) => ({
    width: 1280,
    height: 720,
    data: i === 0 ? patternImage(1280, 720) : patternImage(1280, 720).reverse(),
  }));
  const reference = samples.map((s, i) => segmentFrontend(s, frames[i % 2]!, frontend));

  const audioGraph = await AudioFrontendGraph.load();
  const provider = audioGraph.provider;
  if (frontend.astFrames === AUDIO_GRAPH_AST_FRAMES) {
    const out = await audioGraph.run(concatFloats(samples), samples.length);
    const typescript = stackSegments(reference);
    rows.push(
      compare(`audio graph on ${provider}: fbank`, 'TypeScript', out.fbank, typescript.fbank),
    );
    rows.push(
      compare(`audio graph on ${provider}: log-mel`, 'TypeScript', out.logMel, typescript.logMel),
    );
  }
  await audioGraph.release();

  const picturesGraph = await PicturesFrontendGraph.load();
  const images = await picturesGraph.run(frames, frontend);
  const spec = { ...CLIP_PREPROCESSING, mean: frontend.mean, std: frontend.std };
  const typescriptImages = concatFloats(
    reference
      .slice(0, 2)
      .map((r) => normalisePixels(r.pixels, spec, frontend.frameWidth, frontend.frameHeight)),
  );
  rows.push(
    compare(
      `pictures graph on ${picturesGraph.provider}`,
      'TypeScript (Pillow)',
      images,
      typescriptImages,
    ),
  );
  await picturesGraph.release();

  const [onProvider, onCpu] = await Promise.all([
    SegmentEncoders.load(manifest),
    SegmentEncoders.load(manifest, cpu),
  ]);
  const batch = stackSegments(reference);
  const [got, want] = await Promise.all([onProvider.encode(batch), onCpu.encode(batch)]);
  for (const name of ['ast', 'audio', 'frame', 'patches'] as const)
    rows.push(
      compare(`${name} encoder on ${onProvider.provider}`, 'cpu', got[name].data, want[name].data),
    );
  await Promise.all([onProvider.release(), onCpu.release()]);

  const tokenize = questionTokenizer(manifest);
  const questions = BENCH_QUESTIONS.map(tokenize);
  const window = new FeatureWindow(samples.length);
  splitFeatures(want, samples.length).forEach((features, t) => window.push(t, t, features));
  const [head, headOnCpu] = await Promise.all([
    QStarAnswerer.load(manifest),
    QStarAnswerer.load(manifest, 'full', cpu),
  ]);
  const [answered, answeredOnCpu] = await Promise.all([
    head.answer(window.single(), questions),
    headOnCpu.answer(window.single(), questions),
  ]);
  rows.push(
    compare(
      `head on ${provider}: probabilities`,
      'cpu',
      answered.probabilities,
      answeredOnCpu.probabilities,
    ),
  );
  rows.push(
    compare(
      `head on ${provider}: temporal attention`,
      'cpu',
      answered.temporal,
      answeredOnCpu.temporal,
    ),
  );
  await Promise.all([head.release(), headOnCpu.release()]);
  return { profile: manifest.profile, provider, rows };
}

export function printParity(result: Awaited<ReturnType<typeof benchParity>>): void {
  console.log(`\nParity (${result.profile}; the plan's provider: ${result.provider})`);
  console.table(
    result.rows.map((row) => ({
      what: row.what,
      against: row.against,
      'max |difference|': Number(row.maxAbs.toExponential(2)),
      'over largest |value|': Number(row.relative.toExponential(2)),
    })),
  );
}
