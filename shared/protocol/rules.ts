/**
 * Alert rules on a stream's answers over time, and the alerts they fire. A rule fires once per
 * episode (the condition becoming true and staying true counts once), and not again within its
 * cool-down; alerts go to the dashboards, the event log, webhooks and OSC.
 */
import { z } from 'zod';

const seconds = z.number().positive().max(86_400);

/** An OSC target: `udp://host:port` or `tcp://host:port` (rules and the venue file alike). */
export const oscUrlSchema = z
  .string()
  .regex(/^(udp|tcp):\/\/[^\s/]+:\d{1,5}\/?$/, 'expected udp://host:port or tcp://host:port');

export const ruleConditionSchema = z.discriminatedUnion('kind', [
  /** The question's answer changes to `answer`. */
  z.strictObject({ kind: z.literal('answer-becomes'), answer: z.string().min(1) }),
  /** The question's answer is `answer` for `seconds` on end. */
  z.strictObject({ kind: z.literal('answer-stays'), answer: z.string().min(1), seconds }),
  /** The question's confidence is below `confidence` for `seconds` on end. */
  z.strictObject({
    kind: z.literal('confidence-below'),
    confidence: z.number().gt(0).max(1),
    seconds,
  }),
  /** The stream's source is not live for `seconds` on end. */
  z.strictObject({ kind: z.literal('stream-not-live'), seconds }),
]);
export type RuleCondition = z.infer<typeof ruleConditionSchema>;

/** When a rule is armed: absolute times (ISO 8601), e.g. while the violin is scheduled to play. */
const scheduleSchema = z
  .array(
    z.strictObject({
      from: z.iso.datetime({ offset: true }),
      to: z.iso.datetime({ offset: true }),
    }),
  )
  .max(100);

/** A rule's fields (`ruleRequestSchema` adds the check that an answer rule names its question). */
export const ruleFieldsSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  /** The standing question it watches (all but stream-not-live need one). */
  questionId: z.string().max(64).optional(),
  condition: ruleConditionSchema,
  /** After firing, the rule stays quiet this long even if a new episode starts (default 60 s). */
  cooldownSeconds: z.number().min(0).max(86_400).default(60),
  /** Armed only inside these spans (default: always). */
  schedule: scheduleSchema.optional(),
  /** URLs its alerts are POSTed to (signed with the monitor's TUTTI_WEBHOOK_SECRET when set). */
  webhooks: z
    .array(z.url({ protocol: /^https?$/ }))
    .max(8)
    .default([]),
  /** OSC targets for its alerts (`udp://host:port` / `tcp://host:port`). */
  osc: z.array(oscUrlSchema).max(8).default([]),
});

export const ruleRequestSchema = ruleFieldsSchema.refine(
  (rule) => rule.condition.kind === 'stream-not-live' || rule.questionId,
  {
    message: 'a rule on answers needs the questionId it watches',
    path: ['questionId'],
  },
);
export type RuleRequest = z.input<typeof ruleRequestSchema>;

/** A rule as stored, logged and shown: the request with its id and a name. */
export const ruleSchema = z.object({
  id: z.string(),
  name: z.string(),
  questionId: z.string().optional(),
  condition: ruleConditionSchema,
  cooldownSeconds: z.number(),
  schedule: z.array(z.object({ from: z.string(), to: z.string() })).optional(),
  webhooks: z.array(z.string()),
  osc: z.array(z.string()),
});
export type RuleMessage = z.infer<typeof ruleSchema>;

export const alertMessageSchema = z.object({
  type: z.literal('alert'),
  stream: z.string(),
  ruleId: z.string(),
  name: z.string(),
  /** What happened, in words: "Is there a violin sound? has been no for 10 s". */
  description: z.string(),
  questionId: z.string().optional(),
  answer: z.string().optional(),
  confidence: z.number().optional(),
  /** Wall-clock ms: when the episode began, and when the rule fired. */
  since: z.number(),
  at: z.number(),
});
export type AlertMessage = z.infer<typeof alertMessageSchema>;

/** A stream's rules, whenever they change (and to a new subscriber). */
export const rulesMessageSchema = z.object({
  type: z.literal('rules'),
  stream: z.string(),
  rules: z.array(ruleSchema),
});
export type RulesMessage = z.infer<typeof rulesMessageSchema>;
