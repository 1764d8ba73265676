/** Questions encoded once and kept (server/encoders/question-encodings.ts), as standing questions repeat every hop. */
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { questionTokenizer, readManifest } from '../server/encoders/model-manifest.js';
import { loadModel, tensor } from '../server/encoders/onnx-model.js';
import { QStarAnswerer, softmaxRows } from '../server/encoders/qstar-answerer.js';
import { QuestionEncodings, questionFeeds } from '../server/encoders/question-encodings.js';
import { STEREO_BANDS, STEREO_CHANNELS } from '../server/features/audio/stereo-bands.js';
import { maxAbsDifference } from './support/frontend-fixtures.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { tinyWindow } from './support/tiny-window.js';

const PROFILE = path.join(REPO_ROOT, 'models', 'tiny');
const manifest = readManifest(PROFILE);
const tokenize = questionTokenizer(manifest);
const STANDING = [
  'Is the flute playing?',
  'How many instruments are sounding?',
  'Is the violin on the left louder than the cello on the right?',
  'Which instrument comes in first?',
].map(tokenize);

describe('question encodings kept', () => {
  it('answer as the encoder fed every hop did (its raw padded rows), within 1e-5', async () => {
    // The path before session 22: the question encoder run on every call, its outputs fed as they are.
    const files = manifest.variants['full']!;
    const load = (file: string) => loadModel(path.join(PROFILE, file), { providers: ['cpu'] });
    const [question, head] = [await load(files.question), await load(files.head)];
    const answerer = await QStarAnswerer.load(manifest, 'full', { providers: ['cpu'] });
    try {
      const window = tinyWindow(6, 7, true).single();
      const { batch, segments, dims } = window;
      const { feeds, width } = questionFeeds(STANDING);
      const encoded = await question.session.run(feeds);
      const raw = await head.session.run({
        frames: tensor(window.frames, [batch, segments, dims.frame]),
        patches: tensor(window.patches, [batch, segments, dims.patches, dims.patch]),
        audio: tensor(window.audio, [batch, segments, dims.audio]),
        ast: tensor(window.ast, [batch, segments, dims.bands, dims.ast]),
        words: encoded['words']!,
        word_mask: feeds.mask,
        sentence: encoded['sentence']!,
        segment_mask: tensor(window.segmentMask, [batch, segments], 'bool'),
        stereo: tensor(window.stereo!, [batch, segments, STEREO_CHANNELS, STEREO_BANDS]),
        window_of: tensor(new BigInt64Array(STANDING.length), [STANDING.length]),
      });
      expect(width).toBeGreaterThan(Math.min(...STANDING.map((q) => q.length))); // some padded
      const want = softmaxRows(raw['logits']!.data as Float32Array, 42);
      for (let hop = 0; hop < 3; hop++) {
        const got = await answerer.answer(window, STANDING);
        expect(maxAbsDifference(got.probabilities, want)).toBeLessThan(1e-5);
        expect(maxAbsDifference(got.temporal, raw['temporal']!.data as Float32Array)).toBeLessThan(
          1e-5,
        );
      }
      expect(answerer.questions.encoderRuns).toBe(STANDING.length); // once each, not per hop
    } finally {
      await Promise.all([question.session.release(), head.session.release(), answerer.release()]);
    }
  });

  it('encode only the questions not kept, in one call, and answer each in its own place', async () => {
    const { session } = await loadModel(path.join(PROFILE, manifest.variants['full']!.question), {
      providers: ['cpu'],
    });
    const kept = new QuestionEncodings(session, 8);
    const fresh = new QuestionEncodings(session, 0);
    try {
      await kept.encode(STANDING.slice(0, 2));
      expect(kept.encoderRuns).toBe(2);
      // Two kept, one new (asked twice): one run more; rows in the order asked, padded alike.
      const asked = [STANDING[2]!, STANDING[0]!, STANDING[2]!, STANDING[1]!];
      const got = await kept.encode(asked);
      expect(kept.encoderRuns).toBe(3);
      const want = await fresh.encode(asked);
      expect(got.words.dims).toEqual(want.words.dims);
      expect(
        maxAbsDifference(got.words.data as Float32Array, want.words.data as Float32Array),
      ).toBe(0);
      expect([...(got.wordMask.data as Uint8Array)]).toEqual([
        ...(want.wordMask.data as Uint8Array),
      ]);
      expect(
        maxAbsDifference(got.sentence.data as Float32Array, want.sentence.data as Float32Array),
      ).toBeLessThan(1e-6);
      // Rows past a question's own words are zeros, whatever the encoder gave there.
      const [, width, dim] = got.words.dims as number[];
      const shortest = STANDING[0]!.length;
      const padding = (got.words.data as Float32Array).subarray(
        (width! + shortest) * dim!,
        2 * width! * dim!,
      );
      expect(padding.every((v) => v === 0)).toBe(true);
      expect(fresh.encoderRuns).toBe(3); // without keeping: the distinct ones every call
      expect(fresh.size).toBe(0);
    } finally {
      await session.release();
    }
  });

  it('keep at most the capacity, forgetting the least recently asked', async () => {
    const { session } = await loadModel(path.join(PROFILE, manifest.variants['full']!.question), {
      providers: ['cpu'],
    });
    const kept = new QuestionEncodings(session, 2);
    try {
      const [a, b, c] = STANDING;
      await kept.encode([a!]);
      await kept.encode([b!]);
      await kept.encode([a!]); // a is now the latest asked: b goes next
      await kept.encode([c!]);
      expect(kept.size).toBe(2);
      expect(kept.encoderRuns).toBe(3);
      await kept.encode([a!]);
      expect(kept.encoderRuns).toBe(3);
      await kept.encode([b!]);
      expect(kept.encoderRuns).toBe(4);
      // More distinct questions in one call than are kept: all answered all the same.
      const all = await kept.encode(STANDING);
      expect(all.sentence.dims[0]).toBe(4);
      expect(kept.size).toBe(2);
      expect(() => new QuestionEncodings(session, -1)).toThrow(/whole number ≥ 0/);
    } finally {
      await session.release();
    }
  });

  it('encode many new questions in calls of at most 64 (an evaluation, a training set)', async () => {
    const { session } = await loadModel(path.join(PROFILE, manifest.variants['full']!.question), {
      providers: ['cpu'],
    });
    const calls = vi.spyOn(session, 'run');
    const many = new QuestionEncodings(session, 100);
    try {
      // 70 distinct questions: each standing one with a word more of the vocabulary.
      const asked = Array.from({ length: 70 }, (_, k) => [...STANDING[k % 4]!, 2 + k]);
      const all = await many.encode(asked);
      expect(calls).toHaveBeenCalledTimes(2);
      expect(many.encoderRuns).toBe(70);
      // Each as if encoded alone, in its own place.
      const alone = await new QuestionEncodings(session, 0).encode([asked[69]!]);
      const dim = alone.sentence.dims[1]!;
      expect(
        maxAbsDifference(
          (all.sentence.data as Float32Array).subarray(69 * dim),
          alone.sentence.data as Float32Array,
        ),
      ).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });
});
