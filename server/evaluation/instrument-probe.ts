/**
 * The instrument probe: every scene asked about all 22 instruments, by sound ("Is there a X
 * sound?") and by sight ("Is there a X in the entire video?"), answered from the scene's ground
 * truth. Scored by balanced accuracy (the mean of the yes and no recalls: 50 % is chance however
 * few instruments a scene holds), overall and per instrument.
 */
import { INSTRUMENTS, templateById, type Instrument } from '../../shared/question-space/index.js';
import type { Annotation } from '../datasets/musicavqa-annotations.js';
import type { SceneTruth } from '../synth/ground-truth.js';

export const PROBES = {
  sound: 'audio-object-heard',
  sight: 'visual-object-seen',
} as const;
export type ProbeSense = keyof typeof PROBES;

/** Drawn alike on purpose (server/synth/instrument-catalog.ts): only their sound tells them apart. */
export const LOOKALIKES: readonly Instrument[] = [
  'flute',
  'clarinet',
  'acoustic_guitar',
  'ukulele',
];

export interface ProbeQuestion extends Annotation {
  readonly sense: ProbeSense;
  readonly instrument: Instrument;
}

export function probeQuestions(truths: readonly SceneTruth[]): ProbeQuestion[] {
  const questions: ProbeQuestion[] = [];
  for (const truth of truths) {
    for (const sense of Object.keys(PROBES) as ProbeSense[]) {
      const template = templateById(PROBES[sense])!;
      for (const instrument of INSTRUMENTS) {
        const performers = truth.performers.filter((p) => p.instrument === instrument);
        const present =
          sense === 'sound'
            ? performers.some((p) => p.active.some(Boolean))
            : performers.some((p) => p.x !== null);
        questions.push({
          videoId: truth.id,
          questionId: questions.length + 1,
          type: template.type,
          question: template.text,
          templateValues: [instrument],
          answer: present ? 'yes' : 'no',
          sense,
          instrument,
        });
      }
    }
  }
  return questions;
}

export interface BalancedAccuracy {
  readonly balancedAccuracy: number;
  readonly yesRecall: number;
  readonly noRecall: number;
  readonly questions: number;
  /** Share of "yes" answers given to absent instruments. */
  readonly falseYesRate: number;
}

export function balancedAccuracy(
  questions: readonly ProbeQuestion[],
  predictions: ReadonlyMap<number, string>,
): BalancedAccuracy {
  const recall = (answer: string) => {
    const asked = questions.filter((q) => q.answer === answer);
    const right = asked.filter((q) => predictions.get(q.questionId) === answer).length;
    return asked.length ? right / asked.length : NaN;
  };
  const yesRecall = recall('yes');
  const noRecall = recall('no');
  const present = [yesRecall, noRecall].filter((r) => !Number.isNaN(r));
  return {
    balancedAccuracy: present.reduce((sum, r) => sum + r, 0) / Math.max(1, present.length),
    yesRecall,
    noRecall,
    questions: questions.length,
    falseYesRate: 1 - noRecall,
  };
}

export interface ProbeReport {
  readonly sound: BalancedAccuracy;
  readonly sight: BalancedAccuracy;
  /** Sight without the look-alike pairs, which only sound separates. */
  readonly sightWithoutLookalikes: BalancedAccuracy;
  readonly sightLookalikes: BalancedAccuracy;
  readonly perInstrument: Record<string, { sound: number; sight: number }>;
}

export function probeReport(
  questions: readonly ProbeQuestion[],
  predictions: ReadonlyMap<number, string>,
): ProbeReport {
  const of = (sense: ProbeSense, keep: (q: ProbeQuestion) => boolean = () => true) =>
    balancedAccuracy(
      questions.filter((q) => q.sense === sense && keep(q)),
      predictions,
    );
  const lookalike = (q: ProbeQuestion) => LOOKALIKES.includes(q.instrument);
  return {
    sound: of('sound'),
    sight: of('sight'),
    sightWithoutLookalikes: of('sight', (q) => !lookalike(q)),
    sightLookalikes: of('sight', lookalike),
    perInstrument: Object.fromEntries(
      INSTRUMENTS.map((instrument) => [
        instrument,
        {
          sound: of('sound', (q) => q.instrument === instrument).balancedAccuracy,
          sight: of('sight', (q) => q.instrument === instrument).balancedAccuracy,
        },
      ]),
    ),
  };
}
