/**
 * What a stream said over a time range, from its logged answer changes: each standing question's
 * answers as spans (answer, from when to when), and per second which instruments sounded — read
 * from the answers to "Is there a <instrument> sound?" questions. Pure: stream-export.ts feeds it
 * the logged events, export-formats.ts writes it out.
 */
import type { AnswerChangeMessage, QuestionsMessage } from '../../shared/protocol/messages.js';
import { parseQuestion } from '../../shared/question-space/index.js';

export interface TimeRange {
  /** Wall-clock ms since the epoch; the export's time zero. */
  readonly from: number;
  readonly to: number;
}

export interface AnswerSpan {
  readonly questionId: string;
  readonly sentence: string;
  readonly answer: string;
  /** Of the answer when it changed to it. */
  readonly confidence: number;
  /** Wall-clock ms, clipped to the range. */
  readonly start: number;
  readonly end: number;
}

export interface ActivitySecond {
  /** Seconds from the range's start. */
  readonly second: number;
  /** Wall-clock ms at that second's start. */
  readonly at: number;
  /** Instruments answered as sounding during that second. */
  readonly instruments: readonly string[];
}

/** What the export reads from the log (`at`: when logged): answer changes, and the
 * standing-question lists (whose changes end the spans of removed questions). */
export type TimelineEvent =
  | { readonly at: number; readonly message: AnswerChangeMessage }
  | { readonly at: number; readonly message: QuestionsMessage };

/**
 * Spans from logged events in time order. `before` holds each question's last change before the
 * range (its answer when the range starts), when known.
 */
export function answerSpans(
  events: readonly TimelineEvent[],
  range: TimeRange,
  before: readonly AnswerChangeMessage[] = [],
): AnswerSpan[] {
  const open = new Map<string, { change: AnswerChangeMessage; start: number }>();
  const spans: AnswerSpan[] = [];
  const close = (questionId: string, end: number) => {
    const current = open.get(questionId);
    open.delete(questionId);
    if (!current || end <= current.start) return;
    const { change } = current;
    spans.push({
      questionId,
      sentence: change.sentence,
      answer: change.to,
      confidence: change.confidence,
      start: current.start,
      end,
    });
  };
  for (const change of before) open.set(change.questionId, { change, start: range.from });
  for (const event of events) {
    const { message } = event;
    // A change counts from when its hop's audio ended (where a recording has it), not from when
    // it was logged.
    const at = message.type === 'answer-change' ? message.at : event.at;
    if (at < range.from || at > range.to) continue;
    if (message.type === 'questions') {
      const standing = new Set(message.questions.map((q) => q.id));
      for (const questionId of [...open.keys()])
        if (!standing.has(questionId)) close(questionId, at);
      continue;
    }
    close(message.questionId, at);
    open.set(message.questionId, { change: message, start: at });
  }
  for (const questionId of [...open.keys()]) close(questionId, range.to);
  return spans.sort((a, b) => a.start - b.start || a.questionId.localeCompare(b.questionId));
}

/** The instrument an "Is there a <instrument> sound?" question asks about, else undefined. */
export function heardInstrument(sentence: string): string | undefined {
  try {
    const parsed = parseQuestion(sentence);
    return parsed.template.id === 'audio-object-heard' ? parsed.values[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Per second of the range, the instruments whose "… sound?" answer was yes for most of it. Each
 * span visits only the seconds it covers (a week's range has 604,800 seconds), and each question
 * is parsed once, not once per span.
 */
export function instrumentActivity(
  spans: readonly AnswerSpan[],
  range: TimeRange,
): ActivitySecond[] {
  const instrumentOf = new Map<string, string | undefined>();
  const sounding = spans
    .filter((span) => span.answer === 'yes')
    .map((span) => {
      if (!instrumentOf.has(span.sentence))
        instrumentOf.set(span.sentence, heardInstrument(span.sentence));
      return { span, instrument: instrumentOf.get(span.sentence) };
    })
    .filter((entry): entry is { span: AnswerSpan; instrument: string } => !!entry.instrument);
  const count = Math.max(0, Math.ceil((range.to - range.from) / 1000));
  const secondStart = (second: number) => range.from + second * 1000;
  const secondEnd = (second: number) => Math.min(range.to, secondStart(second) + 1000);
  const heard = Array.from({ length: count }, () => new Set<string>());
  for (const { span, instrument } of sounding) {
    const first = Math.max(0, Math.floor((span.start - range.from) / 1000));
    const last = Math.min(count - 1, Math.floor((span.end - range.from) / 1000));
    for (let second = first; second <= last; second++) {
      const overlap =
        Math.min(secondEnd(second), span.end) - Math.max(secondStart(second), span.start);
      if (overlap * 2 > secondEnd(second) - secondStart(second)) heard[second]!.add(instrument);
    }
  }
  return heard.map((instruments, second) => ({
    second,
    at: secondStart(second),
    instruments: [...instruments].sort(),
  }));
}
