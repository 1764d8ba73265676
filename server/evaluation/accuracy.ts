/**
 * MUSIC-AVQA accuracy exactly as its test scripts (and TSPM's, QA-TIGER's) compute it: a
 * prediction is correct when it equals the annotated answer; every average is pooled
 * (correct / total over the questions it covers), never a mean of per-type accuracies.
 */
import {
  MODALITIES,
  QUESTION_TYPES,
  isAnswer,
  typeKey,
  type Modality,
  type QuestionType,
} from '../../shared/question-space/index.js';
import type { Annotation } from '../datasets/musicavqa-annotations.js';

export interface Tally {
  correct: number;
  total: number;
}

export interface AccuracyReport {
  /** The 9 types in the scripts' order. */
  readonly perType: ReadonlyArray<{ type: QuestionType } & Tally>;
  readonly perModality: ReadonlyArray<{ modality: Modality } & Tally>;
  readonly overall: Tally;
}

export interface ScoreOptions {
  /** Count questions without a prediction as wrong instead of failing. */
  readonly allowMissing?: boolean;
}

export function scoreAccuracy(
  annotations: readonly Annotation[],
  predictions: ReadonlyMap<number, string>,
  options: ScoreOptions = {},
): AccuracyReport {
  const annotated = new Set(annotations.map((annotation) => annotation.questionId));
  const unknown = [...predictions.keys()].filter((id) => !annotated.has(id));
  if (unknown.length > 0) {
    throw new Error(
      `${unknown.length} prediction(s) for unannotated question ids, e.g. ${unknown.slice(0, 5).join(', ')}`,
    );
  }
  const outside = [...predictions].filter(([, answer]) => !isAnswer(answer));
  if (outside.length > 0) {
    const [id, answer] = outside[0] as [number, string];
    throw new Error(
      `${outside.length} prediction(s) outside the 42-answer vocabulary, e.g. question ${id}: "${answer}"`,
    );
  }
  const missing = annotations.filter((annotation) => !predictions.has(annotation.questionId));
  if (missing.length > 0 && !options.allowMissing) {
    throw new Error(
      `${missing.length} annotated question(s) have no prediction, e.g. ${missing
        .slice(0, 5)
        .map((annotation) => annotation.questionId)
        .join(', ')} (pass --allow-missing to count them wrong)`,
    );
  }

  const byType = new Map<string, Tally>(
    QUESTION_TYPES.map((type) => [typeKey(type), { correct: 0, total: 0 }]),
  );
  for (const annotation of annotations) {
    const tally = byType.get(typeKey(annotation.type)) as Tally;
    tally.total += 1;
    if (predictions.get(annotation.questionId) === annotation.answer) tally.correct += 1;
  }
  const perType = QUESTION_TYPES.map((type) => ({ type, ...(byType.get(typeKey(type)) as Tally) }));
  const pool = (tallies: readonly Tally[]): Tally => ({
    correct: tallies.reduce((sum, tally) => sum + tally.correct, 0),
    total: tallies.reduce((sum, tally) => sum + tally.total, 0),
  });
  return {
    perType,
    perModality: MODALITIES.map((modality) => ({
      modality,
      ...pool(perType.filter((entry) => entry.type.modality === modality)),
    })),
    overall: pool(perType),
  };
}

/** Percentage with two decimals, as the scripts print it ('%.2f' of 100 * correct / total). */
export function percent(tally: Tally): string {
  return tally.total === 0 ? 'n/a' : ((100 * tally.correct) / tally.total).toFixed(2);
}

const KIND_LABELS: Record<QuestionType['kind'], string> = {
  Counting: 'Count',
  Comparative: 'Compt',
  Location: 'Local',
  Existential: 'Exist',
  Temporal: 'Templ',
};

/** The report in the layout of TSPM's published accuracy table. */
export function formatAccuracyReport(report: AccuracyReport, name: string): string {
  const lines = [`--------------- ${name} acc --------------- `, '', ''];
  for (const { modality, ...tally } of report.perModality) {
    for (const entry of report.perType.filter((e) => e.type.modality === modality)) {
      lines.push(`${modality} ${KIND_LABELS[entry.type.kind]} Acc: ${percent(entry)} %`);
    }
    lines.push(`${modality} Averg Acc: ${percent(tally)} %`, '');
  }
  lines.push(`---->Overall Accuracy: ${percent(report.overall)} % `);
  return lines.join('\n');
}
