/**
 * The standing evaluation's pieces: counterfactual inputs, the instrument probe and its balanced
 * accuracy, and the template-majority prior.
 */
import { describe, expect, it } from 'vitest';
import { QUESTION_TYPES } from '../shared/question-space/index.js';
import type { Annotation } from '../server/datasets/musicavqa-annotations.js';
import {
  applyCounterfactual,
  swapPartner,
  type FrontendArrays,
} from '../server/evaluation/counterfactuals.js';
import {
  balancedAccuracy,
  probeQuestions,
  probeReport,
} from '../server/evaluation/instrument-probe.js';
import { templatePriorPredictions } from '../server/evaluation/template-prior.js';
import type { PerformerTruth, SceneTruth } from '../server/synth/ground-truth.js';
import type { FrontendSpec } from '../server/features/segment-frontend.js';

const SPEC: FrontendSpec = { astFrames: 100, frameWidth: 128, frameHeight: 64 };

function arrays(videos: number, segments: number): FrontendArrays {
  const total = videos * segments;
  const fill = <T extends Float32Array | Uint8Array>(a: T, per: number) => {
    for (let s = 0; s < total; s++) a.fill(s + 1, s * per, (s + 1) * per);
    return a;
  };
  return {
    fbank: fill(new Float32Array(total * 100 * 128), 100 * 128),
    logMel: fill(new Float32Array(total * 96 * 64), 96 * 64),
    pixels: fill(new Uint8Array(total * 64 * 128 * 3), 64 * 128 * 3),
    videos,
    segments,
  };
}

describe('counterfactuals', () => {
  it('silent audio gives every segment the front-end of silence and keeps the picture', () => {
    const a = arrays(2, 3);
    applyCounterfactual('silent-audio', a, SPEC);
    const first = a.fbank.subarray(0, 100 * 128);
    expect(a.fbank.subarray(5 * 100 * 128)).toEqual(first);
    // Silence after AST's normalisation: the first frame's bins all at the log floor.
    expect(Math.max(...first.subarray(0, 128))).toBeLessThan(-1);
    expect(new Set(a.logMel).size).toBe(1);
    expect(a.pixels[0]).toBe(1);
  });

  it('a black picture zeroes the pixels and keeps the sound', () => {
    const a = arrays(2, 3);
    applyCounterfactual('black-picture', a, SPEC);
    expect(a.pixels.every((p) => p === 0)).toBe(true);
    expect(a.fbank[0]).toBe(1);
  });

  it('swapped audio gives each scene another scene’s sound, never its own', () => {
    const a = arrays(4, 2);
    applyCounterfactual('swap-audio', a, SPEC);
    for (let v = 0; v < 4; v++) {
      const from = swapPartner(v, 4);
      expect(from).not.toBe(v);
      // Segment s of video v now holds what segment s of video `from` held (values 1-based).
      expect(a.fbank[v * 2 * 100 * 128]).toBe(from * 2 + 1);
      expect(a.logMel[(v * 2 + 1) * 96 * 64]).toBe(from * 2 + 2);
      expect(a.pixels[v * 2 * 64 * 128 * 3]).toBe(v * 2 + 1);
    }
  });
});

function performer(instrument: PerformerTruth['instrument'], x: number | null, plays: boolean) {
  return {
    id: 0,
    instrument,
    x,
    region: null,
    soundfont: 'fluidr3',
    program: 0,
    medianPitch: null,
    onsets: [],
    active: [plays, false],
    loudnessDb: [plays ? -20 : -120, -120],
  } satisfies PerformerTruth;
}

const SCENE: SceneTruth = {
  id: '00000001',
  seconds: 2,
  sampleRate: 16000,
  venue: 'indoor',
  voiceover: null,
  noiseDb: null,
  performers: [
    performer('flute', 0.2, true),
    performer('piano', 0.8, false),
    performer('drum', null, true),
  ],
};

describe('instrument probe', () => {
  const questions = probeQuestions([SCENE]);

  it('asks about all 22 instruments by sound and by sight, answered from the truth', () => {
    expect(questions).toHaveLength(44);
    const answer = (sense: string, instrument: string) =>
      questions.find((q) => q.sense === sense && q.instrument === instrument)!.answer;
    expect(answer('sound', 'flute')).toBe('yes');
    expect(answer('sound', 'piano')).toBe('no'); // on stage, silent
    expect(answer('sound', 'drum')).toBe('yes'); // heard, off screen
    expect(answer('sight', 'piano')).toBe('yes');
    expect(answer('sight', 'drum')).toBe('no');
    expect(answer('sight', 'violin')).toBe('no');
  });

  it('scores balanced accuracy: always "yes" is chance, whatever the share of yes', () => {
    const sound = questions.filter((q) => q.sense === 'sound');
    const alwaysYes = new Map(sound.map((q) => [q.questionId, 'yes']));
    expect(balancedAccuracy(sound, alwaysYes)).toMatchObject({
      balancedAccuracy: 0.5,
      yesRecall: 1,
      noRecall: 0,
      falseYesRate: 1,
    });
    const perfect = new Map(questions.map((q) => [q.questionId, q.answer]));
    const report = probeReport(questions, perfect);
    expect(report.sound.balancedAccuracy).toBe(1);
    expect(report.sightWithoutLookalikes.balancedAccuracy).toBe(1);
    // Flute is a look-alike: counted apart from the rest by sight.
    expect(report.sightLookalikes.questions).toBe(4);
  });
});

describe('template prior', () => {
  const [AUDIO_COUNTING] = QUESTION_TYPES;
  const ask = (questionId: number, object: string, answer: string): Annotation => ({
    videoId: 'v',
    questionId,
    type: AUDIO_COUNTING!,
    question: 'Is there a <Object> sound?',
    templateValues: [object],
    answer,
  });
  it('answers each template with its most common training answer', () => {
    const training = [ask(1, 'flute', 'no'), ask(2, 'piano', 'no'), ask(3, 'drum', 'yes')];
    const voiceover: Annotation = {
      ...ask(5, 'x', 'yes'),
      question: 'Is there a voiceover?',
      templateValues: [],
    };
    const predictions = templatePriorPredictions(training, [ask(4, 'violin', 'yes'), voiceover]);
    expect(predictions.get(4)).toBe('no');
    // A template the training set never asked: "yes".
    expect(predictions.get(5)).toBe('yes');
  });
});
