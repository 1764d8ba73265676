/**
 * A stream's standing questions: added and removed at run time, each parsed against the question
 * space (a clear error names the nearest templates) and tokenised once.
 */
import {
  ANSWERS,
  parseQuestion,
  tokenizeQuestion,
  typeKey,
  type ParsedQuestion,
} from '../../shared/question-space/index.js';
import type {
  AnswerChangeMessage,
  AnswerMessage,
  StandingQuestionMessage,
} from '../../shared/protocol/messages.js';
import type { Answered } from '../encoders/qstar-answerer.js';

export interface StandingQuestion {
  readonly id: string;
  readonly parsed: ParsedQuestion;
  readonly ids: number[];
  lastAnswer?: string;
}

/** A hop's answers, and a change event for each question whose answer is new. */
export interface HopAnswers {
  readonly answers: AnswerMessage[];
  readonly changes: AnswerChangeMessage[];
}

export const MAX_STANDING_QUESTIONS = 32;

export class StandingQuestions {
  private readonly questions = new Map<string, StandingQuestion>();
  private counter = 0;

  /** `tokenize`: the model profile's (see questionTokenizer in encoders/model-manifest.ts). */
  constructor(private readonly tokenize: (sentence: string) => number[] = tokenizeQuestion) {}

  add(question: string, values: readonly string[] = [], id?: string): StandingQuestion {
    if (this.questions.size >= MAX_STANDING_QUESTIONS)
      throw new Error(`a stream holds at most ${MAX_STANDING_QUESTIONS} standing questions`);
    const parsed = parseQuestion(question, values);
    const existing = [...this.questions.values()].find(
      (q) => q.parsed.sentence === parsed.sentence,
    );
    if (existing) return existing;
    const standing = {
      id: id ?? `q${++this.counter}`,
      parsed,
      ids: this.tokenize(parsed.sentence),
    };
    this.questions.set(standing.id, standing);
    return standing;
  }

  /**
   * Brings back questions as `describe()` gave them (after a restart), keeping their ids; says
   * why of any the question space no longer accepts.
   */
  restore(questions: readonly StandingQuestionMessage[]): string[] {
    const refused: string[] = [];
    for (const question of questions) {
      try {
        this.add(question.sentence, [], question.id);
      } catch (error) {
        refused.push(`"${question.sentence}": ${(error as Error).message}`);
      }
      const number = /^q(\d+)$/.exec(question.id);
      if (number) this.counter = Math.max(this.counter, Number(number[1]));
    }
    return refused;
  }

  remove(id: string): boolean {
    return this.questions.delete(id);
  }

  list(): StandingQuestion[] {
    return [...this.questions.values()];
  }

  describe(): StandingQuestionMessage[] {
    return this.list().map((q) => ({
      id: q.id,
      templateId: q.parsed.template.id,
      sentence: q.parsed.sentence,
      type: { ...q.parsed.type },
    }));
  }
}

export interface HopContext {
  readonly stream: string;
  readonly window: { start: number; end: number };
  readonly segments: number;
  readonly patchGrid: [number, number];
  readonly readyAt: number;
}

/** Attention weights to 4 decimals: all a display needs, a third of the JSON of full floats. */
function rounded(weights: Float32Array): number[] {
  return Array.from(weights, (w) => Math.round(w * 1e4) / 1e4);
}

/**
 * Answers of one hop as messages, best answer first with the runners-up and attention maps, and
 * the changes among them.
 */
export function answerMessages(
  questions: StandingQuestion[],
  answered: Answered,
  hop: HopContext,
): HopAnswers {
  const changes: AnswerChangeMessage[] = [];
  const width = ANSWERS.length;
  // Wall-clock time the hop's last audio arrived: the answers' and changes' time stamp.
  const audioEndedAt = performance.timeOrigin + hop.readyAt;
  const bands = answered.frequency.length / questions.length;
  const patches = answered.spatial.length / questions.length / hop.segments;
  const answers = questions.map((question, b): AnswerMessage => {
    const probabilities = [...answered.probabilities.subarray(b * width, (b + 1) * width)];
    const ranked = probabilities
      .map((probability, i) => ({ answer: ANSWERS[i]!, probability }))
      .sort((x, y) => y.probability - x.probability);
    const best = ranked[0]!;
    const changed = question.lastAnswer !== undefined && question.lastAnswer !== best.answer;
    if (question.lastAnswer !== best.answer)
      changes.push({
        type: 'answer-change',
        stream: hop.stream,
        questionId: question.id,
        sentence: question.parsed.sentence,
        from: question.lastAnswer ?? null,
        to: best.answer,
        confidence: best.probability,
        window: hop.window,
        at: audioEndedAt,
      });
    question.lastAnswer = best.answer;
    const spatial = answered.spatial.subarray(
      b * hop.segments * patches,
      (b + 1) * hop.segments * patches,
    );
    return {
      type: 'answer',
      stream: hop.stream,
      questionId: question.id,
      sentence: question.parsed.sentence,
      questionType: typeKey(question.parsed.type),
      answer: best.answer,
      confidence: best.probability,
      alternatives: ranked.slice(1, 4),
      window: hop.window,
      latencyMs: performance.now() - hop.readyAt,
      audioEndedAt,
      changed,
      attention: {
        frequency: rounded(answered.frequency.subarray(b * bands, (b + 1) * bands)),
        temporal: rounded(answered.temporal.subarray(b * hop.segments, (b + 1) * hop.segments)),
        spatial: Array.from({ length: hop.segments }, (_, t) =>
          rounded(spatial.subarray(t * patches, (t + 1) * patches)),
        ),
        patchGrid: hop.patchGrid,
      },
    };
  });
  return { answers, changes };
}
