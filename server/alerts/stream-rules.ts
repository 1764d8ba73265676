/**
 * A stream's alert rules and their state: answers (and, each second, the source's state) go in,
 * alerts come out. A rule's condition holding without a break is an episode; an episode fires
 * once, when it has lasted the rule's seconds, unless the rule fired less than its cool-down ago
 * (then that episode stays quiet). Outside its schedule a rule is disarmed and its episode ends.
 */
import type { AnswerMessage } from '../../shared/protocol/messages.js';
import {
  ruleRequestSchema,
  type AlertMessage,
  type RuleMessage,
  type RuleRequest,
} from '../../shared/protocol/rules.js';

interface Episode {
  since?: number;
  fired: boolean;
  lastFired?: number;
}

/** Why a rule was refused (the HTTP API answers 422 with it). */
export class RuleError extends Error {
  override name = 'RuleError';
}

function describe(rule: RuleMessage, sentence: string | undefined): string {
  const { condition } = rule;
  const question = `"${sentence ?? rule.questionId}"`;
  switch (condition.kind) {
    case 'answer-becomes':
      return `${question} became ${condition.answer}`;
    case 'answer-stays':
      return `${question} has been ${condition.answer} for ${condition.seconds} s`;
    case 'confidence-below':
      return `${question} has been answered with confidence below ${condition.confidence} for ${condition.seconds} s`;
    case 'stream-not-live':
      return `the source has not been live for ${condition.seconds} s`;
  }
}

function defaultName(rule: Omit<RuleMessage, 'name' | 'id'>): string {
  const { condition } = rule;
  switch (condition.kind) {
    case 'answer-becomes':
      return `${rule.questionId} becomes ${condition.answer}`;
    case 'answer-stays':
      return `${rule.questionId} stays ${condition.answer} ${condition.seconds} s`;
    case 'confidence-below':
      return `${rule.questionId} confidence < ${condition.confidence} for ${condition.seconds} s`;
    case 'stream-not-live':
      return `not live for ${condition.seconds} s`;
  }
}

export class StreamRules {
  private readonly rules = new Map<string, { rule: RuleMessage; episode: Episode }>();
  private nextId = 1;

  constructor(
    private readonly stream: string,
    /** Whether a question of that id stands on the stream (checked when a rule is added). */
    private readonly hasQuestion: (questionId: string) => boolean,
  ) {}

  /** Validates and adds a rule; throws RuleError with the reason. */
  add(request: RuleRequest): RuleMessage {
    const parsed = ruleRequestSchema.safeParse(request);
    if (!parsed.success)
      throw new RuleError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; '),
      );
    const spec = parsed.data;
    if (spec.questionId && !this.hasQuestion(spec.questionId))
      throw new RuleError(`no standing question "${spec.questionId}" on stream "${this.stream}"`);
    const body = {
      ...(spec.questionId ? { questionId: spec.questionId } : {}),
      condition: spec.condition,
      cooldownSeconds: spec.cooldownSeconds,
      ...(spec.schedule ? { schedule: spec.schedule } : {}),
      webhooks: spec.webhooks,
      osc: spec.osc,
    };
    const rule: RuleMessage = {
      id: `r${this.nextId++}`,
      name: spec.name ?? defaultName(body),
      ...body,
    };
    this.rules.set(rule.id, { rule, episode: { fired: false } });
    return rule;
  }

  remove(id: string): boolean {
    return this.rules.delete(id);
  }

  list(): RuleMessage[] {
    return [...this.rules.values()].map(({ rule }) => rule);
  }

  /** Rules as logged before a restart (ids kept). */
  restore(rules: readonly RuleMessage[]): void {
    for (const rule of rules) {
      this.rules.set(rule.id, { rule, episode: { fired: false } });
      const number = Number(/^r(\d+)$/.exec(rule.id)?.[1] ?? 0);
      this.nextId = Math.max(this.nextId, number + 1);
    }
  }

  /** An answer to one of the stream's questions: the alerts it fires. */
  observeAnswer(answer: AnswerMessage): AlertMessage[] {
    const alerts: AlertMessage[] = [];
    for (const entry of this.rules.values()) {
      const { rule } = entry;
      if (rule.questionId !== answer.questionId) continue;
      const { condition } = rule;
      const holds =
        condition.kind === 'answer-becomes' || condition.kind === 'answer-stays'
          ? answer.answer === condition.answer
          : condition.kind === 'confidence-below' && answer.confidence < condition.confidence;
      const alert = this.step(entry, holds, answer.audioEndedAt, answer.sentence);
      if (alert)
        alerts.push({
          ...alert,
          questionId: answer.questionId,
          answer: answer.answer,
          confidence: answer.confidence,
        });
    }
    return alerts;
  }

  /** Each second: the source's state, for stream-not-live rules. */
  observeState(live: boolean, now: number): AlertMessage[] {
    return [...this.rules.values()]
      .filter(({ rule }) => rule.condition.kind === 'stream-not-live')
      .flatMap((entry) => this.step(entry, !live, now, undefined) ?? []);
  }

  private step(
    entry: { rule: RuleMessage; episode: Episode },
    holds: boolean,
    at: number,
    sentence: string | undefined,
  ): AlertMessage | undefined {
    const { rule, episode } = entry;
    const armed =
      !rule.schedule ||
      rule.schedule.some((s) => Date.parse(s.from) <= at && at <= Date.parse(s.to));
    if (!holds || !armed) {
      episode.since = undefined;
      episode.fired = false;
      return undefined;
    }
    episode.since ??= at;
    if (episode.fired) return undefined;
    const lasting = 'seconds' in rule.condition ? rule.condition.seconds * 1000 : 0;
    if (at - episode.since < lasting) return undefined;
    episode.fired = true; // this episode is spent, whether it fires or is inside the cool-down
    if (episode.lastFired !== undefined && at - episode.lastFired < rule.cooldownSeconds * 1000)
      return undefined;
    episode.lastFired = at;
    return {
      type: 'alert',
      stream: this.stream,
      ruleId: rule.id,
      name: rule.name,
      description: describe(rule, sentence),
      since: episode.since,
      at,
    };
  }
}
