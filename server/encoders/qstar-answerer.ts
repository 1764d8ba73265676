/**
 * The question encoder and QSTar's head of a profile variant: questions over windows of segment
 * features → answer probabilities and the attention maps that explain them.
 */
import path from 'node:path';
import type ort from 'onnxruntime-node';
import { ANSWERS } from '../../shared/question-space/index.js';
import { assertFilesExist, type ModelManifest } from './model-manifest.js';
import { loadModel, tensor, type LoadOptions } from './onnx-model.js';
import { STEREO_BANDS, STEREO_CHANNELS } from '../features/audio/stereo-bands.js';
import { gatherWindows } from '../windows/feature-window.js';
import { DEFAULT_KEPT_QUESTIONS, QuestionEncodings } from './question-encodings.js';

/** A batch of B windows of T segments (features laid out B × T × …). */
export interface WindowBatch {
  readonly batch: number;
  readonly segments: number;
  readonly frames: Float32Array;
  readonly patches: Float32Array;
  readonly audio: Float32Array;
  readonly ast: Float32Array;
  /** B × T, 1 where the segment holds data. */
  readonly segmentMask: Uint8Array;
  /**
   * B × T × 2 × 64: each segment's mel-band power per channel (stereo-bands.ts), for heads that
   * take it; absent (a mono source, older features) is fed as zeros, which the head hears as mono.
   */
  readonly stereo?: Float32Array;
  readonly dims: {
    readonly frame: number;
    readonly patches: number;
    readonly patch: number;
    readonly audio: number;
    readonly bands: number;
    readonly ast: number;
  };
}

export interface Answered {
  /** B × 42 softmax probabilities, in ANSWERS order. */
  readonly probabilities: Float32Array;
  readonly frequency: Float32Array;
  readonly spatial: Float32Array;
  readonly temporal: Float32Array;
}

export class QStarAnswerer {
  /** Whether the head takes `stereo` (heads exported with stereo templates). */
  private readonly takesStereo: boolean;
  /** Whether the head gathers each question's window itself (`window_of`: every export since session 21). */
  private readonly gathersWindows: boolean;

  /** The question encoder, run once per distinct question (standing questions repeat every hop). */
  readonly questions: QuestionEncodings;

  private constructor(
    question: ort.InferenceSession,
    private readonly head: ort.InferenceSession,
    keptQuestions: number,
  ) {
    this.questions = new QuestionEncodings(question, keptQuestions);
    this.takesStereo = head.inputNames.includes('stereo');
    this.gathersWindows = head.inputNames.includes('window_of');
  }

  static async load(
    manifest: ModelManifest,
    variant = 'full',
    options: LoadOptions & { readonly keptQuestions?: number } = {},
  ): Promise<QStarAnswerer> {
    const files = manifest.variants[variant];
    if (!files)
      throw new Error(
        `profile ${manifest.profile} has no variant "${variant}" (it has ${Object.keys(manifest.variants).join(', ')})`,
      );
    assertFilesExist(
      manifest.directory,
      [files.question, files.head],
      `profile ${manifest.profile}, variant ${variant},`,
    );
    const [question, head] = await Promise.all([
      loadModel(path.join(manifest.directory, files.question), options),
      loadModel(path.join(manifest.directory, files.head), options),
    ]);
    return new QStarAnswerer(
      question.session,
      head.session,
      options.keptQuestions ?? DEFAULT_KEPT_QUESTIONS,
    );
  }

  /**
   * `questions[b]` are the word ids of question b, which reads window `windowOf[b]`; by default
   * each question its own window, or all of them a single one. Answers come one per question.
   */
  async answer(
    given: WindowBatch,
    questions: readonly (readonly number[])[],
    windowOf = defaultWindowOf(given.batch, questions.length),
  ): Promise<Answered> {
    assertWindowOf(windowOf, given.batch, questions.length);
    // A head exported before it gathered windows itself gets them one per question.
    const windows = this.gathersWindows ? given : ownWindows(given, windowOf);
    const { batch, segments, dims } = windows;
    const { words, wordMask, sentence } = await this.questions.encode(questions);
    const out = await this.head.run({
      frames: tensor(windows.frames, [batch, segments, dims.frame]),
      patches: tensor(windows.patches, [batch, segments, dims.patches, dims.patch]),
      audio: tensor(windows.audio, [batch, segments, dims.audio]),
      ast: tensor(windows.ast, [batch, segments, dims.bands, dims.ast]),
      words,
      word_mask: wordMask,
      sentence,
      segment_mask: tensor(windows.segmentMask, [batch, segments], 'bool'),
      ...(this.takesStereo && { stereo: stereoTensor(windows) }),
      ...(this.gathersWindows && {
        window_of: tensor(BigInt64Array.from(windowOf, BigInt), [questions.length]),
      }),
    });
    return {
      probabilities: softmaxRows(out['logits']!.data as Float32Array, ANSWERS.length),
      frequency: out['frequency']!.data as Float32Array,
      spatial: out['spatial']!.data as Float32Array,
      temporal: out['temporal']!.data as Float32Array,
    };
  }

  async release(): Promise<void> {
    await Promise.all([this.questions.release(), this.head.release()]);
  }
}

/** Each question its own window where there are as many, else all of them the single one. */
function defaultWindowOf(windows: number, questions: number): number[] {
  if (windows === questions) return Array.from({ length: questions }, (_, q) => q);
  if (windows === 1) return Array<number>(questions).fill(0);
  throw new Error(`${questions} questions for ${windows} windows: say which window each reads`);
}

function assertWindowOf(windowOf: readonly number[], windows: number, questions: number): void {
  if (windowOf.length !== questions)
    throw new Error(`${questions} questions, but windowOf names ${windowOf.length} windows`);
  const wrong = windowOf.find((w) => !Number.isInteger(w) || w < 0 || w >= windows);
  if (wrong !== undefined)
    throw new Error(`windowOf names window ${wrong}; there are ${windows} (0…${windows - 1})`);
}

/** The windows one per question, without a copy where they already are. */
function ownWindows(windows: WindowBatch, windowOf: readonly number[]): WindowBatch {
  const identity = windowOf.length === windows.batch && windowOf.every((w, q) => w === q);
  return identity ? windows : gatherWindows(windows, windowOf);
}

/** A window's stereo bands, or zeros where it has none: the head hears a mono window. */
export function stereoOrMono({ stereo, batch, segments }: WindowBatch): Float32Array {
  return stereo ?? new Float32Array(batch * segments * STEREO_CHANNELS * STEREO_BANDS);
}

function stereoTensor(window: WindowBatch): ort.Tensor {
  const { stereo, batch, segments } = window;
  const size = batch * segments * STEREO_CHANNELS * STEREO_BANDS;
  if (stereo && stereo.length !== size)
    throw new Error(
      `stereo holds ${stereo.length} values; ${batch} × ${segments} segments need ${size}`,
    );
  return tensor(stereoOrMono(window), [batch, segments, STEREO_CHANNELS, STEREO_BANDS]);
}

export function softmaxRows(logits: Float32Array, width: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let row = 0; row < logits.length / width; row++) {
    let max = -Infinity;
    for (let i = 0; i < width; i++) max = Math.max(max, logits[row * width + i]!);
    let sum = 0;
    for (let i = 0; i < width; i++)
      sum += out[row * width + i] = Math.exp(logits[row * width + i]! - max);
    for (let i = 0; i < width; i++) out[row * width + i]! /= sum;
  }
  return out;
}
