/**
 * Wire schemas for asking about the question space. Validated at the boundary by the server;
 * the client imports the same schemas and the types inferred from them.
 */
import { z } from 'zod';

export const parseQuestionRequestSchema = z.object({
  /** A filled sentence ("Is the flute louder than the cello?") or a template with placeholders. */
  question: z.string().min(1).max(500),
  /** Placeholder values when `question` is a template. */
  values: z.array(z.string().max(64)).max(8).default([]),
});
export type ParseQuestionRequest = z.input<typeof parseQuestionRequestSchema>;

export const questionTypeSchema = z.object({ modality: z.string(), kind: z.string() });

export const parsedQuestionSchema = z.object({
  templateId: z.string(),
  template: z.string(),
  type: questionTypeSchema,
  values: z.array(z.string()),
  sentence: z.string(),
});
export type ParsedQuestionMessage = z.infer<typeof parsedQuestionSchema>;

export const errorResponseSchema = z.object({
  error: z.string(),
  /** Nearest templates when a question was not understood. */
  nearest: z.array(z.object({ templateId: z.string(), template: z.string() })).optional(),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
