/**
 * Question features from a profile's frozen text tower (the paper profile's CLIP text encoder),
 * computed once per distinct sentence so a head can be trained on them as the paper trains
 * QSTar on frozen CLIP features (`npm run extract -- --stage features`, then `train.py head`).
 * The same tokenizer and ONNX file the monitor uses when it answers.
 */
import path from 'node:path';
import { loadModel } from './onnx-model.js';
import { QuestionEncodings } from './question-encodings.js';
import { questionTokenizer, type ModelManifest } from './model-manifest.js';

export interface QuestionTextFeatures {
  /** Per sentence: its word tokens, padded with zeros to `words` (sentences × words × dim). */
  readonly words: Float32Array;
  /** Per sentence: the tower's sentence embedding (sentences × dim). */
  readonly sentence: Float32Array;
  /** Per sentence: how many of its `words` rows are real tokens. */
  readonly lengths: readonly number[];
  readonly width: number;
  readonly dim: number;
}

export async function encodeQuestionTexts(
  manifest: ModelManifest,
  sentences: readonly string[],
  variant = 'full',
): Promise<QuestionTextFeatures> {
  const files = manifest.variants[variant];
  if (!files) throw new Error(`profile ${manifest.profile} has no variant "${variant}"`);
  const tokenize = questionTokenizer(manifest);
  const tokens = new Map<string, number[]>();
  for (const sentence of sentences)
    if (!tokens.has(sentence)) tokens.set(sentence, tokenize(sentence));
  const ids = sentences.map((sentence) => tokens.get(sentence)!);
  const { session } = await loadModel(path.join(manifest.directory, files.question));
  // As the monitor encodes questions, each distinct one once; all of them kept until assembled.
  const encodings = new QuestionEncodings(session, tokens.size);
  try {
    const { words, sentence } = await encodings.encode(ids);
    const [, width = 1, dim = 0] = words.dims;
    return {
      words: words.data as Float32Array,
      sentence: sentence.data as Float32Array,
      lengths: ids.map((row) => row.length),
      width,
      dim,
    };
  } finally {
    await encodings.release();
  }
}
