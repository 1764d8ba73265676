/** Several streams' hops in one head call (server/encoders/hop-batch.ts), as the worker batches them. */
import { copyFileSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceClient } from '../server/encoders/inference-client.js';
import { questionTokenizer, readManifest } from '../server/encoders/model-manifest.js';
import { QStarAnswerer, type Answered } from '../server/encoders/qstar-answerer.js';
import { assertHop, joinHops, splitAnswered, type Hop } from '../server/encoders/hop-batch.js';
import { repeatWindow } from '../server/windows/feature-window.js';
import { maxAbsDifference } from './support/frontend-fixtures.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { runPython } from './support/run-cli.js';
import { tinyWindow as windowOf } from './support/tiny-window.js';

const PROFILE = path.join(REPO_ROOT, 'models', 'tiny');

/** Each head's answers to the same hops, joined as the worker joins them. */
async function answeredByEach(answerers: QStarAnswerer[], hops: Hop[]) {
  const { windows, questions, windowOf: read } = joinHops(hops);
  const answers = await Promise.all(
    answerers.map((answerer) => answerer.answer(windows, questions, read)),
  );
  return { answers, windows, questions };
}

describe('hop batches', () => {
  it("join every hop's window once, with the window each question reads", () => {
    const a = windowOf(3, 1).single();
    const b = windowOf(3, 2).single();
    const c = repeatWindow(windowOf(3, 3).single(), 2); // a hop sent one window per question
    const {
      windows,
      questions,
      windowOf: read,
      rows,
    } = joinHops([
      { window: a, questions: [[1], [2]] },
      { window: b, questions: [[3], [4, 5], [6]] },
      { window: c, questions: [[7], [8]] },
    ]);
    expect(rows).toEqual([2, 3, 2]);
    expect(questions).toEqual([[1], [2], [3], [4, 5], [6], [7], [8]]);
    expect(windows.batch).toBe(4);
    expect(read).toEqual([0, 0, 1, 1, 1, 2, 3]);
    expect([...windows.patches]).toEqual([...a.patches, ...b.patches, ...c.patches]);
    expect(joinHops([{ window: a, questions: [[1], [2]] }]).windows).toBe(a); // alone: no copy
  });

  it("split one call's answers back by hop", () => {
    const rows = [2, 3];
    const row = (width: number) =>
      Float32Array.from({ length: 5 * width }, (_, i) => Math.floor(i / width));
    const answered: Answered = {
      probabilities: row(42),
      frequency: row(8),
      spatial: row(24),
      temporal: row(3),
    };
    const [first, second] = splitAnswered(answered, rows);
    expect([...new Set(first!.probabilities)]).toEqual([0, 1]);
    expect([...new Set(second!.temporal)]).toEqual([2, 3, 4]);
    expect(second!.spatial.length).toBe(3 * 24);
  });

  it('join a stereo hop and a mono one: the mono hop hears zeros (mono, as alone), the other its own', () => {
    const stereo = windowOf(3, 1, true).single();
    const mono = windowOf(3, 2).single();
    const { windows } = joinHops([
      { window: stereo, questions: [[1], [2]] },
      { window: mono, questions: [[3]] },
    ]);
    const perWindow = 3 * 2 * 64;
    expect(windows.stereo?.length).toBe(2 * perWindow);
    expect([...windows.stereo!.subarray(0, perWindow)]).toEqual([...stereo.stereo!]);
    expect(windows.stereo!.subarray(perWindow).every((v) => v === 0)).toBe(true);
    expect(joinHops([{ window: mono, questions: [[3]] }]).windows.stereo).toBeUndefined();
  });

  it('refuse a hop whose windows and questions do not fit, with the reason', () => {
    const window = windowOf(3, 1).single();
    expect(() => assertHop({ window, questions: [] })).toThrow(/at least one question/);
    expect(() =>
      assertHop({ window: repeatWindow(window, 2), questions: [[1], [2], [3]] }),
    ).toThrow(/3 questions for 2 windows/);
    expect(() =>
      assertHop({ window: { ...window, audio: new Float32Array(5) }, questions: [[1]] }),
    ).toThrow(/a window's audio hold 5 values, not 516/); // 3 segments × 172
  });

  it('answer in one head call as each hop alone does, questions of different lengths padded', async () => {
    const manifest = readManifest(PROFILE);
    const tokenize = questionTokenizer(manifest);
    const answerer = await QStarAnswerer.load(manifest, 'full', { providers: ['cpu'] });
    try {
      const hops: Hop[] = [
        { window: windowOf(4, 1).single(), questions: ['Is there a flute sound?'].map(tokenize) },
        {
          window: windowOf(4, 2).single(),
          questions: [
            'How many instruments are sounding in the video?',
            'Is the clarinet louder than the piano?',
          ].map(tokenize),
        },
      ];
      const { windows, questions, windowOf: read, rows } = joinHops(hops);
      const together = splitAnswered(await answerer.answer(windows, questions, read), rows);
      for (const [i, hop] of hops.entries()) {
        const alone = await answerer.answer(
          repeatWindow(hop.window, hop.questions.length),
          hop.questions,
        );
        expect(maxAbsDifference(together[i]!.probabilities, alone.probabilities)).toBeLessThan(
          1e-5,
        );
        expect(maxAbsDifference(together[i]!.temporal, alone.temporal)).toBeLessThan(1e-5);
      }
    } finally {
      await answerer.release();
    }
  }, 60_000);

  it('a head exported before heads gathered windows (windows-once --undo) answers as one that does; bad window numbers are refused', async () => {
    const legacy = mkdtempSync(path.join(tmpdir(), 'tutti-legacy-head-'));
    for (const file of readdirSync(PROFILE))
      (file === 'qstar-tiny.onnx' ? copyFileSync : symlinkSync)(
        path.join(PROFILE, file),
        path.join(legacy, file),
      );
    await runPython([
      'models/qstar/export.py',
      'windows-once',
      '--undo',
      path.join(legacy, 'qstar-tiny.onnx'),
    ]);
    const manifest = readManifest(PROFILE);
    const ids = ['Is there a flute sound?', 'Is the clarinet louder than the piano?'].map(
      questionTokenizer(manifest),
    );
    const gathering = await QStarAnswerer.load(manifest, 'full', { providers: ['cpu'] });
    const repeating = await QStarAnswerer.load(readManifest(legacy), 'full', {
      providers: ['cpu'],
    });
    try {
      const { answers, windows, questions } = await answeredByEach(
        [gathering, repeating],
        [
          { window: windowOf(4, 1, true).single(), questions: ids },
          { window: windowOf(4, 2).single(), questions: [...ids].reverse() },
        ],
      );
      const [gathered, repeated] = answers as [Answered, Answered];
      expect(gathered.probabilities.length).toBe(4 * 42);
      expect(maxAbsDifference(gathered.probabilities, repeated.probabilities)).toBeLessThan(1e-6);
      expect(maxAbsDifference(gathered.spatial, repeated.spatial)).toBeLessThan(1e-6);
      await expect(gathering.answer(windows, questions, [0, 0, 1, 2])).rejects.toThrow(
        /windowOf names window 2; there are 2/,
      );
      await expect(gathering.answer(windows, [...questions, ids[0]!])).rejects.toThrow(
        /5 questions for 2 windows: say which window each reads/,
      );
    } finally {
      await Promise.all([gathering.release(), repeating.release()]);
    }
  }, 60_000);

  it('a head exported now computes per window what does not depend on the question, and answers as the shipped one', async () => {
    // The shipped head's slim checkpoint exported again: window_of is taken after Concepts, the
    // input projections and STI's keys and values (QStar.forward), not at the graph's inputs.
    const profile = mkdtempSync(path.join(tmpdir(), 'tutti-head-now-'));
    for (const file of readdirSync(PROFILE))
      if (file !== 'qstar-tiny.onnx')
        symlinkSync(path.join(PROFILE, file), path.join(profile, file));
    const exported = mkdtempSync(path.join(tmpdir(), 'tutti-head-export-'));
    await runPython([
      'models/qstar/train.py',
      'export',
      path.join(PROFILE, 'qstar-tiny.pt'),
      '--out',
      exported,
    ]);
    copyFileSync(path.join(exported, 'qstar-tiny.onnx'), path.join(profile, 'qstar-tiny.onnx'));
    const gathered = async (head: string) =>
      (
        await runPython([
          '-c',
          `import onnx; g = onnx.load(${JSON.stringify(head)}).graph; inputs = {i.name for i in g.input}
print(" ".join(sorted(("input:" if n.input[0] in inputs else "inner:") + n.input[0] for n in g.node if n.op_type == "Gather" and n.input[1] == "window_of")))`,
        ])
      ).stdout.trim();
    expect(await gathered(path.join(PROFILE, 'qstar-tiny.onnx'))).toMatch(
      /^input:\S+( input:\S+)*$/,
    );
    const inside = await gathered(path.join(profile, 'qstar-tiny.onnx'));
    // The masks go in as they are; every feature stream is gathered only once computed on.
    expect(inside).not.toMatch(/input:(frames|patches|audio|ast)\b/);
    expect(inside).toMatch(
      /inner:\/head\/key\/.* inner:\/head\/patch_in\/.* inner:\/head\/value\//,
    );
    // Such a head has no gathers at its inputs to take out: --undo says so instead of breaking it.
    await expect(
      runPython([
        'models/qstar/export.py',
        'windows-once',
        '--undo',
        path.join(profile, 'qstar-tiny.onnx'),
      ]),
    ).rejects.toThrow(/gathers each question's window inside the graph/);

    const manifest = readManifest(PROFILE);
    const ids = [
      'Is there a flute sound?',
      'Is the violin on the left louder than the cello on the right?',
      'How many instruments are sounding?',
    ].map(questionTokenizer(manifest));
    const shipped = await QStarAnswerer.load(manifest, 'full', { providers: ['cpu'] });
    const now = await QStarAnswerer.load(readManifest(profile), 'full', { providers: ['cpu'] });
    try {
      const { answers } = await answeredByEach(
        [shipped, now],
        [
          { window: windowOf(6, 3, true).single(), questions: ids },
          { window: windowOf(6, 4).single(), questions: ids.slice(1) },
        ],
      );
      const [a, b] = answers;
      expect(maxAbsDifference(a!.probabilities, b!.probabilities)).toBeLessThan(1e-5);
      expect(maxAbsDifference(a!.temporal, b!.temporal)).toBeLessThan(1e-5);
      expect(maxAbsDifference(a!.spatial, b!.spatial)).toBeLessThan(1e-5);
    } finally {
      await Promise.all([shipped.release(), now.release()]);
    }
  }, 120_000);

  it.each(['1', '8'])(
    'are what the worker makes of hops that arrive together (TUTTI_HOP_BATCH=%s); a bad hop fails alone',
    async (hopBatch) => {
      const manifest = readManifest(PROFILE);
      const ids = ['Is there a flute sound?', 'Is the piano playing?'].map(
        questionTokenizer(manifest),
      );
      process.env['TUTTI_HOP_BATCH'] = hopBatch; // a worker takes the environment it starts with
      const client = await InferenceClient.start({ profile: PROFILE, variant: 'full', threads: 1 });
      delete process.env['TUTTI_HOP_BATCH'];
      try {
        const windows = [1, 2, 3].map((seed) => windowOf(seed + 2, seed).single()); // 3, 4, 5 segments
        const alone: Answered[] = [];
        for (const window of windows) alone.push(await client.answer(window, ids));
        const bad = expect(
          client.answer({ ...windows[0]!, frames: new Float32Array(1) }, ids),
        ).rejects.toThrow(/a window's frames hold 1 values/);
        const together = await Promise.all(
          windows.flatMap((w) => [client.answer(w, ids), client.answer(w, ids)]),
        );
        await bad;
        together.forEach((answered, i) =>
          expect(
            maxAbsDifference(answered.probabilities, alone[Math.floor(i / 2)]!.probabilities),
          ).toBeLessThan(1e-5),
        );
      } finally {
        await client.close();
      }
    },
    60_000,
  );

  it("hands a window over to the worker when asked: the caller's arrays move (detached), the answers are the same", async () => {
    const manifest = readManifest(PROFILE);
    const ids = ['Is there a flute sound?', 'Is the piano playing?'].map(
      questionTokenizer(manifest),
    );
    const client = await InferenceClient.start({ profile: PROFILE, variant: 'full', threads: 1 });
    try {
      const copied = windowOf(4, 5, true).single();
      const handed = windowOf(4, 5, true).single();
      const kept = await client.answer(copied, ids);
      const moved = await client.answer(handed, ids, true);
      expect(copied.patches.length).toBe(4 * 8 * 64); // copied: still the caller's
      for (const array of [handed.frames, handed.patches, handed.audio, handed.ast, handed.stereo!])
        expect(array.length).toBe(0); // moved: detached here
      expect(maxAbsDifference(moved.probabilities, kept.probabilities)).toBe(0);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('a worker refuses a hop batch that is no whole number ≥ 1', async () => {
    process.env['TUTTI_HOP_BATCH'] = '0';
    const started = InferenceClient.start({ profile: PROFILE, variant: 'full', threads: 1 });
    delete process.env['TUTTI_HOP_BATCH'];
    await expect(started).rejects.toThrow(/TUTTI_HOP_BATCH must be a whole number ≥ 1, not "0"/);
  });
});
