/**
 * The WebSocket protocol between the monitor and its dashboards, once, for both sides: zod
 * schemas validated at the boundary, TypeScript types inferred from them.
 */
import { z } from 'zod';
import { alertMessageSchema, rulesMessageSchema } from './rules.js';

export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Binary messages carry captured media (MediaRecorder chunks); they may be larger. */
export const MAX_MEDIA_CHUNK_BYTES = 1024 * 1024;

/** Stream time (s) a hop's window covers. */
const windowSchema = z.object({ start: z.number(), end: z.number() });

const streamId = z.string().regex(/^[\w.-]{1,64}$/, 'stream ids are 1–64 letters, digits, _ . -');

/** Dashboard → monitor. Control messages (adding or removing questions) carry the access token. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), stream: streamId }),
  z.object({ type: z.literal('unsubscribe'), stream: streamId }),
  z.object({
    type: z.literal('add-question'),
    stream: streamId,
    question: z.string().min(1).max(500),
    values: z.array(z.string().max(64)).max(8).default([]),
    token: z.string().max(256),
  }),
  z.object({
    type: z.literal('remove-question'),
    stream: streamId,
    questionId: z.string().max(64),
    token: z.string().max(256),
  }),
  /**
   * Starts a new stream fed by this connection's binary messages: a live capture (WebM from
   * MediaRecorder), or a `recording` (a file the browser transcoded with ffmpeg.wasm), which the
   * monitor plays at `speed` × real time.
   */
  z.object({
    type: z.literal('capture-start'),
    stream: streamId,
    token: z.string().max(256),
    recording: z.object({ speed: z.number().min(0.5).max(8).default(1) }).optional(),
  }),
  /** No more media for this connection's stream: the monitor plays what it has, then stops it. */
  z.object({ type: z.literal('capture-end'), stream: streamId }),
]);
export type ClientMessage = z.input<typeof clientMessageSchema>;

export const standingQuestionSchema = z.object({
  id: z.string(),
  templateId: z.string(),
  sentence: z.string(),
  type: z.object({ modality: z.string(), kind: z.string() }),
});
export type StandingQuestionMessage = z.infer<typeof standingQuestionSchema>;

export const answerMessageSchema = z.object({
  type: z.literal('answer'),
  stream: streamId,
  questionId: z.string(),
  sentence: z.string(),
  /** "Modality/Kind", e.g. "Audio-Visual/Temporal". */
  questionType: z.string(),
  answer: z.string(),
  confidence: z.number(),
  alternatives: z.array(z.object({ answer: z.string(), probability: z.number() })),
  /** Stream time (s) the window covers. */
  window: windowSchema,
  /** From the end of the hop's audio to the answer leaving the monitor, ms. */
  latencyMs: z.number(),
  /** Wall-clock time (ms since the epoch) the hop's last audio arrived: a client's own latency
   * is its receive time minus this. */
  audioEndedAt: z.number(),
  /** True when the answer differs from this question's previous one. */
  changed: z.boolean(),
  attention: z.object({
    frequency: z.array(z.number()),
    temporal: z.array(z.number()),
    /** Per segment of the window, per patch. */
    spatial: z.array(z.array(z.number())),
    patchGrid: z.tuple([z.number(), z.number()]),
  }),
});
export type AnswerMessage = z.infer<typeof answerMessageSchema>;

/**
 * A standing question's answer changed (its first answer counts: from nothing). Sent once per
 * change, after the answer message; a timeline can be drawn from these alone.
 */
export const answerChangeSchema = z.object({
  type: z.literal('answer-change'),
  stream: streamId,
  questionId: z.string(),
  sentence: z.string(),
  /** The previous answer, null for the question's first. */
  from: z.string().nullable(),
  to: z.string(),
  confidence: z.number(),
  /** The window of the hop that changed it, stream time (s). */
  window: windowSchema,
  /** Wall-clock time (ms since the epoch) the hop's last audio arrived. */
  at: z.number(),
});
export type AnswerChangeMessage = z.infer<typeof answerChangeSchema>;

export const streamStatusSchema = z.object({
  type: z.literal('stream-status'),
  stream: streamId,
  state: z.enum(['starting', 'live', 'retrying', 'stopped']),
  detail: z.string().optional(),
  segments: z.number(),
  skippedHops: z.number(),
  /** Video frames the source delivered per wall-clock second since the last status (the monitor
   * samples 2 a second). */
  fps: z.number().optional(),
  /** Seconds of audio the source delivered per wall-clock second (1 = keeping real time). */
  speed: z.number().optional(),
});
export type StreamStatusMessage = z.infer<typeof streamStatusSchema>;

/** What a stream sounded like in one segment, for the dashboard's scrolling spectrogram. */
export const segmentMessageSchema = z.object({
  type: z.literal('segment'),
  stream: streamId,
  index: z.number(),
  /** Stream time of its start, s. */
  start: z.number(),
  /** RMS level, dBFS. */
  levelDb: z.number(),
  /** Log-mel frames (VGGish's 64 bands, 125–7500 Hz), frames × bands, lowest band first. */
  spectrogram: z.array(z.array(z.number())),
});
export type SegmentMessage = z.infer<typeof segmentMessageSchema>;

/** A stream's standing questions, whenever they change (and to a new subscriber). */
export const questionsMessageSchema = z.object({
  type: z.literal('questions'),
  stream: streamId,
  questions: z.array(standingQuestionSchema),
});
export type QuestionsMessage = z.infer<typeof questionsMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  answerMessageSchema,
  answerChangeSchema,
  segmentMessageSchema,
  streamStatusSchema,
  questionsMessageSchema,
  rulesMessageSchema,
  alertMessageSchema,
  z.object({
    type: z.literal('error'),
    message: z.string(),
    nearest: z.array(z.object({ templateId: z.string(), template: z.string() })).optional(),
  }),
  /** The monitor's streams, sent on connecting and whenever one is added (e.g. a capture). */
  z.object({ type: z.literal('streams'), streams: z.array(streamId) }),
  /** Messages this client missed because it read too slowly. */
  z.object({ type: z.literal('dropped'), count: z.number() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
