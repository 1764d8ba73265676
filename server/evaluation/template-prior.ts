/**
 * The prior that neither looks nor listens: each template's most common answer in a training
 * set, given to every question of that template (ties go to the answer seen first). What a model
 * adds over it is what it takes from the scene.
 */
import { parseQuestion } from '../../shared/question-space/index.js';
import type { Annotation } from '../datasets/musicavqa-annotations.js';

const templateOf = (a: Annotation) => parseQuestion(a.question, a.templateValues).template.id;

export function templateMajority(training: readonly Annotation[]): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const a of training) {
    const template = templateOf(a);
    const answers = counts.get(template) ?? new Map<string, number>();
    answers.set(a.answer, (answers.get(a.answer) ?? 0) + 1);
    counts.set(template, answers);
  }
  return new Map(
    [...counts].map(([template, answers]) => [
      template,
      [...answers].reduce((best, next) => (next[1] > best[1] ? next : best))[0],
    ]),
  );
}

/** Predictions of the template prior; a template the training set never asked gets "yes". */
export function templatePriorPredictions(
  training: readonly Annotation[],
  questions: readonly Annotation[],
): Map<number, string> {
  const majority = templateMajority(training);
  return new Map(questions.map((a) => [a.questionId, majority.get(templateOf(a)) ?? 'yes']));
}
