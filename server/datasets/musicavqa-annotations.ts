/**
 * MUSIC-AVQA's annotation format (avqa-{train,val,test}.json): a JSON array of records with
 * seven fields, two of which ("type", "templ_values") are JSON encoded inside strings and one
 * of which is spelled "anser" upstream. Read once here, validated, and decoded.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  MODALITIES,
  QUESTION_TYPES,
  type QuestionType,
} from '../../shared/question-space/index.js';

const jsonString = <T extends z.ZodType>(inner: T) =>
  z.string().transform((text, context) => {
    try {
      const decoded = inner.safeParse(JSON.parse(text));
      if (decoded.success) return decoded.data as z.output<T>;
      context.addIssue({ code: 'custom', message: decoded.error.issues[0]?.message ?? 'invalid' });
    } catch {
      context.addIssue({ code: 'custom', message: `not JSON: ${text}` });
    }
    return z.NEVER;
  });

export const annotationRecordSchema = z.object({
  video_id: z.string(),
  question_id: z.number().int(),
  type: jsonString(z.tuple([z.enum(MODALITIES), z.string()])),
  question_content: z.string(),
  templ_values: jsonString(z.array(z.string())),
  question_deleted: z.number().int(),
  anser: z.string(),
});
export type AnnotationRecord = z.output<typeof annotationRecordSchema>;
/** The record as written to disk (the encoded strings still encoded). */
export type RawAnnotationRecord = z.input<typeof annotationRecordSchema>;

export interface Annotation {
  readonly videoId: string;
  readonly questionId: number;
  readonly type: QuestionType;
  readonly question: string;
  readonly templateValues: readonly string[];
  readonly answer: string;
}

export function decodeAnnotations(json: unknown, source = 'annotations'): Annotation[] {
  const records = z.array(annotationRecordSchema).safeParse(json);
  if (!records.success) {
    const issue = records.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const seen = new Set<number>();
  return records.data.map((record, index) => {
    if (seen.has(record.question_id)) {
      throw new Error(`${source}: question_id ${record.question_id} appears twice`);
    }
    seen.add(record.question_id);
    const [modality, kind] = record.type;
    const type = QUESTION_TYPES.find((t) => t.modality === modality && t.kind === kind);
    if (!type)
      throw new Error(`${source}: record ${index}: unknown question type ${modality}/${kind}`);
    return {
      videoId: record.video_id,
      questionId: record.question_id,
      type,
      question: record.question_content,
      templateValues: record.templ_values,
      answer: record.anser,
    };
  });
}

export function encodeAnnotation(annotation: Annotation): RawAnnotationRecord {
  return {
    video_id: annotation.videoId,
    question_id: annotation.questionId,
    type: JSON.stringify([annotation.type.modality, annotation.type.kind]),
    question_content: annotation.question,
    templ_values: JSON.stringify(annotation.templateValues),
    question_deleted: 0,
    anser: annotation.answer,
  };
}

export async function readAnnotations(path: string): Promise<Annotation[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read annotations ${path}: ${(error as Error).message}`);
  }
  return decodeAnnotations(json, path);
}
