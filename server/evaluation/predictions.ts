/**
 * Predictions file: JSON lines, one `{"question_id": 12, "answer": "one"}` per question.
 * `answer` may also be the answer's index in the 42-answer vocabulary.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ANSWERS } from '../../shared/question-space/index.js';

const predictionLineSchema = z.object({
  question_id: z.number().int(),
  answer: z.union([
    z.string(),
    z
      .number()
      .int()
      .min(0)
      .max(ANSWERS.length - 1),
  ]),
});

/** Parses predictions text into question id → answer, with line numbers in every error. */
export function parsePredictions(text: string, source = 'predictions'): Map<number, string> {
  const predictions = new Map<number, string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${source}:${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not JSON: ${line.slice(0, 80)}`);
    }
    const parsed = predictionLineSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${where}: ${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const { question_id: questionId, answer } = parsed.data;
    if (predictions.has(questionId))
      throw new Error(`${where}: question_id ${questionId} predicted twice`);
    predictions.set(questionId, typeof answer === 'number' ? (ANSWERS[answer] as string) : answer);
  });
  return predictions;
}

export async function readPredictions(path: string): Promise<Map<number, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read predictions ${path}: ${(error as Error).message}`);
  }
  return parsePredictions(text, path);
}
