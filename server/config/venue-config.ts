/**
 * The venue configuration file (`npm start -- --config FILE`, JSON or YAML): the monitor's
 * settings and its streams — each with its source, standing questions and OSC targets. Validated
 * with zod like the wire protocol; an error names the file, the path in it and what was
 * expected. Tokens stay in the environment (TUTTI_TOKEN, TUTTI_READ_TOKEN), not in the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { QuestionParseError, parseQuestion } from '../../shared/question-space/index.js';
import { oscUrlSchema, ruleFieldsSchema } from '../../shared/protocol/rules.js';

const oscTargetSchema = z.strictObject({
  url: oscUrlSchema,
  address: z.string().startsWith('/', 'an OSC address starts with "/"').optional(),
  send: z.enum(['answers', 'changes', 'both']).optional(),
});

/** Where a stream's pictures and sound come from: exactly one of these keys. */
const sourceSchema = z.union([
  z.strictObject({ file: z.string().min(1), loop: z.boolean().optional() }),
  z.strictObject({
    url: z
      .string()
      .regex(
        /^(rtsp|rtsps|rtmp|http|https|srt|udp):\/\//,
        'expected a network stream URL (rtsp://, http://, srt://…)',
      ),
  }),
  z.strictObject({ microphone: z.union([z.literal('default'), z.number().int().min(0)]) }),
  z.strictObject({ camera: z.string().min(1), audio: z.string().min(1).optional() }),
  z.strictObject({ demo: z.literal(true) }),
]);

const question = z.string().superRefine((text, context) => {
  try {
    parseQuestion(text);
  } catch (error) {
    if (!(error instanceof QuestionParseError)) throw error;
    context.addIssue({ code: 'custom', message: error.message });
  }
});

/** One stream of a venue: its id, source, standing questions, OSC targets and alert rules. */
export const streamSpecSchema = z.strictObject({
  id: z.string().regex(/^[\w.-]{1,64}$/, 'expected 1–64 letters, digits, "_", "." or "-"'),
  source: sourceSchema,
  /**
   * How the sound's left and right stand to the picture: as recorded (default); swapped (the
   * microphones face the stage from the other side, or the picture is mirrored: every rule by
   * pan would read the stage backwards); mono (the channels ignored).
   */
  stereo: z.enum(['as-recorded', 'swapped', 'mono']).optional(),
  questions: z.array(question).optional(),
  osc: z.array(oscTargetSchema).optional(),
  /** Alert rules; `question` names one of `questions` by its position (0 = the first). */
  rules: z
    .array(
      ruleFieldsSchema
        .omit({ questionId: true })
        .extend({ question: z.number().int().min(0).optional() })
        .refine(
          (rule) => rule.condition.kind === 'stream-not-live' || rule.question !== undefined,
          {
            message: 'a rule on answers needs the question it watches (its position in questions)',
            path: ['question'],
          },
        ),
    )
    .optional(),
});

const seconds = z.number().positive();

export const venueConfigSchema = z
  .strictObject({
    /** The monitor's settings; each is overridden by its environment variable when that is set. */
    monitor: z
      .strictObject({
        host: z.string().optional(),
        port: z.number().int().min(0).max(65535).optional(),
        profile: z.string().optional(),
        variant: z.string().optional(),
        windowSeconds: seconds.optional(),
        hopSeconds: seconds.optional(),
        database: z.string().optional(),
        retentionDays: seconds.optional(),
        allowedHosts: z.array(z.string()).optional(),
        maxCaptures: z.number().int().min(0).optional(),
        stallSeconds: seconds.optional(),
      })
      .optional(),
    /** OSC targets that get every stream's answers. */
    osc: z.array(oscTargetSchema).optional(),
    streams: z.array(streamSpecSchema).min(1, 'expected at least one stream'),
  })
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.streams.forEach((stream, index) => {
      if (seen.has(stream.id))
        context.addIssue({
          code: 'custom',
          path: ['streams', index, 'id'],
          message: `stream id "${stream.id}" is used twice`,
        });
      seen.add(stream.id);
    });
  });

export type VenueConfig = z.infer<typeof venueConfigSchema>;
export type StreamSpec = VenueConfig['streams'][number];

export class VenueConfigError extends Error {
  override name = 'VenueConfigError';
}

/** `streams[1].source` from a zod path. */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`))
    .join('');
}

/** Parses and validates a configuration's text; `file` names it in errors (and picks YAML). */
export function parseVenueConfig(text: string, file: string): VenueConfig {
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new VenueConfigError(
      `${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    );
  }
  const result = venueConfigSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = pathText(issue.path);
    const message =
      issue.code === 'invalid_union' && where.endsWith('source')
        ? 'expected exactly one of file, url, microphone, camera, demo (with its settings)'
        : issue.message;
    return `${file}: ${where || '(top level)'}: ${message}`;
  });
  throw new VenueConfigError(problems.join('\n'));
}

export function loadVenueConfig(file: string): VenueConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VenueConfigError(`${file}: cannot read: ${(error as Error).message}`);
  }
  const config = parseVenueConfig(text, file);
  // A file source is found beside the configuration, wherever the monitor is started from.
  return {
    ...config,
    streams: config.streams.map((stream) =>
      'file' in stream.source
        ? {
            ...stream,
            source: {
              ...stream.source,
              file: path.resolve(path.dirname(file), stream.source.file),
            },
          }
        : stream,
    ),
  };
}
