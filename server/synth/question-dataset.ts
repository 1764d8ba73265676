/**
 * From every scene's candidate questions to a MUSIC-AVQA-format dataset: balanced over the 9
 * question types and, within each template, over its answers, so that no type can be answered
 * from the answer prior alone; split by scene into train/val/test.
 */
import { QUESTION_TYPES, TEMPLATES, typeKey } from '../../shared/question-space/index.js';
import {
  encodeAnnotation,
  type Annotation,
  type RawAnnotationRecord,
} from '../datasets/musicavqa-annotations.js';
import type { Random } from './random.js';
import type { SceneQuestion } from './scene-questions.js';
import type { SynthesizedScene } from './synthesize-scenes.js';

export type Split = 'train' | 'val' | 'test';

/** Scenes 0–7 of every ten train, 8 validates, 9 tests. */
export function splitOf(sceneIndex: number): Split {
  const slot = sceneIndex % 10;
  return slot === 8 ? 'val' : slot === 9 ? 'test' : 'train';
}

interface Candidate {
  readonly scene: SynthesizedScene;
  readonly question: SceneQuestion;
}

/**
 * Picks about `perScene` questions per scene: an equal share per type, split equally over the
 * type's templates, and within a template at most an equal share per answer (rare answers are
 * taken whole, common ones are not topped up, so a template's answers stay near uniform).
 */
export function balanceQuestions(
  scenes: readonly SynthesizedScene[],
  perScene: number,
  random: Random,
): Candidate[] {
  const byTemplate = new Map<string, Map<string, Candidate[]>>();
  for (const scene of scenes) {
    for (const question of scene.questions) {
      const answers = byTemplate.get(question.template.id) ?? new Map<string, Candidate[]>();
      const list = answers.get(question.answer) ?? [];
      list.push({ scene, question });
      answers.set(question.answer, list);
      byTemplate.set(question.template.id, answers);
    }
  }
  const perType = (perScene * scenes.length) / QUESTION_TYPES.length;
  const picked: Candidate[] = [];
  for (const template of TEMPLATES) {
    const answers = byTemplate.get(template.id);
    if (!answers) continue;
    const templatesOfType = TEMPLATES.filter((t) => t.type === template.type).length;
    const share = Math.ceil(perType / templatesOfType / answers.size);
    for (const list of answers.values()) picked.push(...random.shuffle(list).slice(0, share));
  }
  // Stable order: by scene, then template order.
  const order = new Map(TEMPLATES.map((t, i) => [t.id, i]));
  return picked.sort(
    (a, b) =>
      a.scene.index - b.scene.index ||
      order.get(a.question.template.id)! - order.get(b.question.template.id)!,
  );
}

export function toAnnotations(
  candidates: readonly Candidate[],
): Array<Annotation & { split: Split }> {
  return candidates.map(({ scene, question }, k) => ({
    videoId: scene.truth.id,
    questionId: k + 1,
    type: question.template.type,
    question: question.template.text,
    templateValues: question.values,
    answer: question.answer,
    split: splitOf(scene.index),
  }));
}

export interface TypeBaseline {
  readonly type: string;
  readonly questions: number;
  readonly majorityAnswer: string;
  /** Accuracy of always answering the type's most common answer. */
  readonly majorityAccuracy: number;
}

export function majorityBaselines(annotations: readonly Annotation[]): TypeBaseline[] {
  return QUESTION_TYPES.map((type) => {
    const counts = new Map<string, number>();
    for (const a of annotations)
      if (a.type === type) counts.set(a.answer, (counts.get(a.answer) ?? 0) + 1);
    const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
    const [majorityAnswer, count] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    return {
      type: typeKey(type),
      questions: total,
      majorityAnswer,
      majorityAccuracy: total ? count / total : 0,
    };
  });
}

export function recordsOf(annotations: readonly Annotation[]): RawAnnotationRecord[] {
  return annotations.map(encodeAnnotation);
}
