import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAnnotations } from '../server/datasets/musicavqa-annotations.js';
import { decodeStereoAudio } from '../server/sources/decode-media-file.js';
import type { SceneTruth } from '../server/synth/ground-truth.js';
import { ACTIVE_DB } from '../server/synth/ground-truth.js';
import { mixStereo, panGains } from '../server/synth/mixdown.js';
import { Random } from '../server/synth/random.js';
import { planScene } from '../server/synth/scene-plan.js';
import { ASKED_TEMPLATE_IDS, sceneQuestions } from '../server/synth/scene-questions.js';
import {
  QUESTION_TYPES,
  TEMPLATES,
  parseQuestion,
  typeKey,
} from '../shared/question-space/index.js';
import { Undetermined, oracleAnswer } from './support/answer-oracle.js';
import { runCli } from './support/run-cli.js';

const run = promisify(execFile);
const SECONDS = 6;

const synth = (args: string[]) => runCli('synth', args);

function rmsDb(samples: Float32Array, from: number, to: number): number {
  let energy = 0;
  for (let i = from; i < to; i++) energy += samples[i]! ** 2;
  return 10 * Math.log10(energy / (to - from) + 1e-20);
}

const readTruth = (dir: string, id: string) =>
  JSON.parse(readFileSync(path.join(dir, 'truth', `${id}.json`), 'utf8')) as SceneTruth;

describe('synthetic scenes (npm run synth)', () => {
  let dir = '';
  let again = '';
  let truths: SceneTruth[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tutti-synth-'));
    again = mkdtempSync(path.join(tmpdir(), 'tutti-synth-'));
    await synth(['--scenes', '12', '--seconds', String(SECONDS), '--seed', '3', '--out', dir]);
    await synth(['--scenes', '3', '--seconds', String(SECONDS), '--seed', '3', '--out', again]);
    truths = readdirSync(path.join(dir, 'truth'))
      .sort()
      .map((file) => readTruth(dir, file.replace('.json', '')));
  }, 180_000);

  it('writes an H.264 + AAC mp4 and a ground-truth file per scene', async () => {
    expect(truths).toHaveLength(12);
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height,channels:format=duration',
      '-of',
      'json',
      path.join(dir, 'videos', '00000001.mp4'),
    ]);
    const probe = JSON.parse(stdout) as {
      streams: Array<Record<string, unknown>>;
      format: { duration: string };
    };
    expect(probe.streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ codec_name: 'h264', width: 320, height: 180 }),
        expect.objectContaining({ codec_name: 'aac', channels: 2 }),
      ]),
    );
    expect(Number(probe.format.duration)).toBeCloseTo(SECONDS, 0);
  });

  it('is deterministic per seed: the same scene index gives the same truth and audio', async () => {
    for (const id of ['00000001', '00000002', '00000003']) {
      expect(readTruth(again, id)).toEqual(readTruth(dir, id));
      const [a, b] = await Promise.all([
        decodeStereoAudio(path.join(dir, 'videos', `${id}.mp4`)),
        decodeStereoAudio(path.join(again, 'videos', `${id}.mp4`)),
      ]);
      expect(a.left).toEqual(b.left);
    }
    const plan = (seed: number) => planScene(Random.forItem(seed, 0), 'x', { seconds: 10 });
    expect(plan(3)).toEqual(plan(3));
    expect(plan(3)).not.toEqual(plan(4));
  });

  it('sounds where the ground truth says a part plays, and is silent where none does', async () => {
    const checked = { active: 0, silent: 0 };
    for (const truth of truths) {
      const { left, right } = await decodeStereoAudio(path.join(dir, 'videos', `${truth.id}.mp4`));
      for (let s = 0; s < truth.seconds; s++) {
        const from = s * 16_000;
        const level = Math.max(rmsDb(left, from, from + 16_000), rmsDb(right, from, from + 16_000));
        const loudest = Math.max(
          ...truth.performers.map((p) => (p.active[s] ? p.loudnessDb[s]! : -Infinity)),
        );
        const voice = truth.voiceover && truth.voiceover.start < s + 1 && truth.voiceover.end > s;
        if (loudest > -Infinity) {
          // The loudest part is at most 3 dB (centre pan) below itself in its louder channel.
          expect(level, `${truth.id} second ${s}`).toBeGreaterThan(loudest - 4);
          checked.active += 1;
        } else if (!voice) {
          expect(level, `${truth.id} second ${s}`).toBeLessThan(ACTIVE_DB + 6);
          checked.silent += 1;
        }
      }
    }
    expect(checked.active).toBeGreaterThan(30);
    expect(checked.silent).toBeGreaterThan(0);
  });

  it('pans each part to where it stands', async () => {
    let checked = 0;
    for (const truth of truths) {
      const { left, right } = await decodeStereoAudio(path.join(dir, 'videos', `${truth.id}.mp4`));
      for (let s = 0; s < truth.seconds; s++) {
        const playing = truth.performers.filter((p) => p.loudnessDb[s]! > -75);
        const solo = playing[0];
        const voice = truth.voiceover && truth.voiceover.start < s + 1 && truth.voiceover.end > s;
        if (playing.length !== 1 || !solo || solo.x === null || voice || solo.loudnessDb[s]! < -40)
          continue;
        const [gainLeft, gainRight] = panGains(solo.x);
        const expected = 20 * Math.log10(gainLeft / gainRight);
        const measured =
          rmsDb(left, s * 16_000, (s + 1) * 16_000) - rmsDb(right, s * 16_000, (s + 1) * 16_000);
        if (Math.abs(expected) > 20) continue; // hard-panned: the far channel is mostly room noise
        expect(measured, `${truth.id} second ${s}, x=${solo.x}`).toBeCloseTo(expected, 0);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('writes MUSIC-AVQA-format questions whose answers an independent reading of the truth confirms', () => {
    const byId = new Map(truths.map((truth) => [truth.id, truth]));
    const splits = ['train', 'val', 'test'].map((split) =>
      decodeAnnotations(
        JSON.parse(readFileSync(path.join(dir, `avqa-${split}.json`), 'utf8')),
        split,
      ),
    );
    const all = splits.flat();
    expect(all.length).toBeGreaterThan(100);
    expect(splits[1]!.length).toBeGreaterThan(0);
    expect(splits[2]!.length).toBeGreaterThan(0);
    for (const annotation of all) {
      const parsed = parseQuestion(annotation.question, annotation.templateValues);
      expect(parsed.type).toBe(annotation.type);
      const truth = byId.get(annotation.videoId)!;
      expect(
        oracleAnswer(truth, parsed.template.id, [...parsed.values]),
        `${annotation.questionId}: ${parsed.sentence}`,
      ).toBe(annotation.answer);
    }
  });

  it('asks only questions the truth decides, and the oracle agrees on every candidate', () => {
    let candidates = 0;
    for (const truth of truths) {
      for (const question of sceneQuestions(truth)) {
        let answer: string;
        try {
          answer = oracleAnswer(truth, question.template.id, [...question.values]);
        } catch (error) {
          if (error instanceof Undetermined)
            throw new Error(
              `${truth.id} ${question.template.id} ${question.values}: ${error.message}`,
            );
          throw error;
        }
        expect(answer, `${truth.id} ${question.template.id} ${question.values.join(',')}`).toBe(
          question.answer,
        );
        candidates += 1;
      }
    }
    expect(candidates).toBeGreaterThan(500);
  });

  it('covers all 33 templates and all 9 types, with no type answerable by its majority answer', () => {
    expect([...ASKED_TEMPLATE_IDS].sort()).toEqual(TEMPLATES.map((t) => t.id).sort());
    const stats = JSON.parse(readFileSync(path.join(dir, 'stats.json'), 'utf8')) as {
      majorityBaselines: Array<{ type: string; questions: number; majorityAccuracy: number }>;
    };
    expect(stats.majorityBaselines.map((b) => b.type)).toEqual(QUESTION_TYPES.map(typeKey));
    for (const baseline of stats.majorityBaselines) {
      expect(baseline.questions, baseline.type).toBeGreaterThan(5);
      expect(baseline.majorityAccuracy, baseline.type).toBeLessThan(0.65);
    }
  });

  it('renders the same scenes in a soundfont training never used, when asked', async () => {
    const unseen = mkdtempSync(path.join(tmpdir(), 'tutti-synth-'));
    await synth([
      '--scenes',
      '2',
      '--seconds',
      String(SECONDS),
      '--seed',
      '3',
      '--soundfont',
      'csound',
      '--out',
      unseen,
    ]);
    for (const id of ['00000001', '00000002']) {
      const [usual, other] = [readTruth(dir, id), readTruth(unseen, id)];
      expect(other.performers.map((p) => [p.instrument, p.x])).toEqual(
        usual.performers.map((p) => [p.instrument, p.x]),
      );
      expect(new Set(other.performers.map((p) => p.soundfont))).toEqual(new Set(['csound']));
      expect(usual.performers.every((p) => p.soundfont !== 'csound')).toBe(true);
      const [a, b] = await Promise.all(
        [dir, unseen].map((d) => decodeStereoAudio(path.join(d, 'videos', `${id}.mp4`))),
      );
      expect(a!.left).not.toEqual(b!.left);
    }
  });

  it('refuses bad arguments clearly', async () => {
    await expect(synth(['--scenes', '0', '--seconds', '5', '--out', dir])).rejects.toMatchObject({
      stderr: expect.stringContaining('--scenes must be a positive integer, got "0"'),
    });
    await expect(synth(['--scenes', '2', '--seconds', '5'])).rejects.toMatchObject({
      stderr: expect.stringContaining('--out is required'),
    });
    await expect(
      synth(['--scenes', '1', '--seconds', '5', '--soundfont', 'gravis', '--out', dir]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining(
        '--soundfont must be one of fluidr3, musescore, timgm6mb, csound, got "gravis"',
      ),
    });
  });
});

describe('mixdown', () => {
  it('pans with constant power and keeps the mix from clipping', () => {
    expect(panGains(0)).toEqual([1, 0]);
    const [l, r] = panGains(0.5);
    expect(l).toBeCloseTo(Math.SQRT1_2, 12);
    expect(l ** 2 + r ** 2).toBeCloseTo(1, 12);
    const loud = new Float32Array(100).fill(0.9);
    const mix = mixStereo(
      [
        { samples: loud, x: 0 },
        { samples: loud, x: 0 },
      ],
      100,
    );
    expect(mix.scale).toBeCloseTo(0.95 / 1.8, 5);
    expect(Math.max(...mix.left)).toBeCloseTo(0.95, 5);
    expect(Math.max(...mix.right)).toBe(0);
  });
});
