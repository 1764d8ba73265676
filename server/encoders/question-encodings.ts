/**
 * The question encoder's outputs, kept per question: standing questions are asked again at every
 * hop of every stream, and the encoder (the paper profile's CLIP text tower) gives the same word
 * tokens and sentence for the same words each time, so it runs once per distinct question rather
 * than once per hop. The least recently asked questions go first when more than `capacity` are
 * kept; a capacity of 0 encodes every call afresh (the bench's cold hop).
 */
import type ort from 'onnxruntime-node';
import { tensor } from './onnx-model.js';

/** Questions ready for the head: B × W × D word tokens, B × D sentences, B × W word mask. */
export interface EncodedQuestions {
  readonly words: ort.Tensor;
  readonly wordMask: ort.Tensor;
  readonly sentence: ort.Tensor;
}

interface Encoding {
  /** Only the question's own tokens (length × word dim): rows past them are fed as zeros. */
  readonly words: Float32Array;
  readonly sentence: Float32Array;
}

/** Enough for every standing question of many streams; a paper question keeps ~25 KB. */
export const DEFAULT_KEPT_QUESTIONS = 512;
/** Most questions one encoder call takes (many new at once: an evaluation, a training set). */
const ENCODER_BATCH = 64;

export class QuestionEncodings {
  private readonly kept = new Map<string, Encoding>();
  /** The encoder's widths, known from its first run. */
  private dims = { word: 0, sentence: 0 };
  /** Questions the encoder has run on (each distinct question of a call counts once). */
  encoderRuns = 0;

  constructor(
    private readonly encoder: ort.InferenceSession,
    private readonly capacity = DEFAULT_KEPT_QUESTIONS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new Error(`questions kept must be a whole number ≥ 0, not ${capacity}`);
  }

  async encode(questions: readonly (readonly number[])[]): Promise<EncodedQuestions> {
    const keys = questions.map((ids) => ids.join(' '));
    const found = await this.lookUp(questions, keys);
    const width = Math.max(1, ...questions.map((ids) => ids.length));
    const { word, sentence: dim } = this.dims;
    const words = new Float32Array(questions.length * width * word);
    const wordMask = new Uint8Array(questions.length * width);
    const sentence = new Float32Array(questions.length * dim);
    keys.forEach((key, q) => {
      const encoding = found.get(key)!;
      words.set(encoding.words, q * width * word);
      wordMask.fill(1, q * width, q * width + questions[q]!.length);
      sentence.set(encoding.sentence, q * dim);
    });
    return {
      words: tensor(words, [questions.length, width, word]),
      wordMask: tensor(wordMask, [questions.length, width], 'bool'),
      sentence: tensor(sentence, [questions.length, dim]),
    };
  }

  /** Each distinct question's encoding: those kept, then encoder calls for the rest. */
  private async lookUp(
    questions: readonly (readonly number[])[],
    keys: readonly string[],
  ): Promise<Map<string, Encoding>> {
    const found = new Map<string, Encoding>();
    const missing = new Map<string, readonly number[]>();
    keys.forEach((key, q) => {
      const kept = this.kept.get(key);
      if (kept) {
        // Map order is insertion order: re-inserting marks the question as the latest asked.
        this.kept.delete(key);
        this.kept.set(key, kept);
        found.set(key, kept);
      } else missing.set(key, questions[q]!);
    });
    const fresh = [...missing.keys()];
    for (let from = 0; from < fresh.length; from += ENCODER_BATCH) {
      const batch = fresh.slice(from, from + ENCODER_BATCH);
      const encoded = await this.run(batch.map((key) => missing.get(key)!));
      batch.forEach((key, b) => {
        found.set(key, encoded[b]!);
        this.keep(key, encoded[b]!);
      });
    }
    return found;
  }

  /** One encoder call; each question's own rows of word tokens, and its sentence. */
  private async run(asked: readonly (readonly number[])[]): Promise<Encoding[]> {
    const { feeds, width } = questionFeeds(asked);
    const out = await this.encoder.run(feeds);
    this.encoderRuns += asked.length;
    const words = out['words']!.data as Float32Array;
    const sentence = out['sentence']!.data as Float32Array;
    const word = out['words']!.dims[2]!;
    const dim = sentence.length / asked.length;
    this.dims = { word, sentence: dim };
    return asked.map((question, b) => ({
      words: words.slice(b * width * word, (b * width + question.length) * word),
      sentence: sentence.slice(b * dim, (b + 1) * dim),
    }));
  }

  private keep(key: string, encoding: Encoding): void {
    if (this.capacity === 0) return;
    this.kept.set(key, encoding);
    if (this.kept.size > this.capacity) this.kept.delete(this.kept.keys().next().value!);
  }

  release(): Promise<void> {
    return this.encoder.release();
  }

  /** How many questions are kept now. */
  get size(): number {
    return this.kept.size;
  }
}

/** A question encoder's inputs: word ids padded with 0 to the longest question, and its mask. */
export function questionFeeds(
  questions: readonly (readonly number[])[],
  width = Math.max(1, ...questions.map((ids) => ids.length)),
): { feeds: { ids: ort.Tensor; mask: ort.Tensor }; width: number } {
  const ids = new BigInt64Array(questions.length * width);
  const mask = new Uint8Array(questions.length * width);
  questions.forEach((question, b) =>
    question.forEach((id, w) => {
      ids[b * width + w] = BigInt(id);
      mask[b * width + w] = 1;
    }),
  );
  return {
    feeds: {
      ids: tensor(ids, [questions.length, width]),
      mask: tensor(mask, [questions.length, width], 'bool'),
    },
    width,
  };
}
