/**
 * Question features from a profile's frozen text tower (the paper profile's CLIP text encoder),
 * computed once per distinct sentence so a head can be trained on them as the paper trains
 * QSTar on frozen CLIP features (`npm run extract -- --stage features`, then `train.py head`).
 * The same tokenizer and ONNX file the monitor uses when it answers.
 */
import path from 'node:path';
import { loadModel } from './onnx-model.js';
import { questionFeeds } from './question-encodings.js';
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

const BATCH = 64;

export async function encodeQuestionTexts(
  manifest: ModelManifest,
  sentences: readonly string[],
  variant = 'full',
): Promise<QuestionTextFeatures> {
  const files = manifest.variants[variant];
  if (!files) throw new Error(`profile ${manifest.profile} has no variant "${variant}"`);
  const tokenize = questionTokenizer(manifest);
  const distinct = [...new Set(sentences)];
  const ids = distinct.map((sentence) => tokenize(sentence));
  const width = Math.max(1, ...ids.map((row) => row.length));
  const { session } = await loadModel(path.join(manifest.directory, files.question));
  const rows = new Map<string, { words: Float32Array; sentence: Float32Array }>();
  let dim = 0;
  try {
    for (let from = 0; from < distinct.length; from += BATCH) {
      const batch = ids.slice(from, from + BATCH);
      const out = await session.run(questionFeeds(batch, width).feeds);
      const words = out['words']!.data as Float32Array;
      const sentence = out['sentence']!.data as Float32Array;
      dim = sentence.length / batch.length;
      batch.forEach((row, b) => {
        // Rows past a sentence's own tokens are zeroed: the head masks them anyway.
        const own = words.slice(b * width * dim, (b * width + row.length) * dim);
        const padded = new Float32Array(width * dim);
        padded.set(own);
        rows.set(distinct[from + b]!, {
          words: padded,
          sentence: sentence.slice(b * dim, (b + 1) * dim),
        });
      });
    }
  } finally {
    await session.release();
  }
  const words = new Float32Array(sentences.length * width * dim);
  const sentence = new Float32Array(sentences.length * dim);
  sentences.forEach((text, q) => {
    const row = rows.get(text)!;
    words.set(row.words, q * width * dim);
    sentence.set(row.sentence, q * dim);
  });
  const length = new Map(distinct.map((text, i) => [text, ids[i]!.length]));
  return { words, sentence, lengths: sentences.map((text) => length.get(text)!), width, dim };
}
