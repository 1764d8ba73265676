/**
 * Reads what an export needs from the event log, page by page through the same history reader
 * the HTTP API uses (off the answering thread): the answer changes and question lists in the
 * range, and each question's last change before it.
 */
import type { AnswerChangeMessage } from '../../shared/protocol/messages.js';
import { MAX_HISTORY_PAGE, type HistoryQuery } from '../storage/history-page.js';
import {
  answerSpans,
  instrumentActivity,
  type TimeRange,
  type TimelineEvent,
} from './answer-timeline.js';
import type { StreamExport } from './export-formats.js';

/** Answer changes an export reads at most (a question changing every second for a day ≈ 86k). */
export const MAX_EXPORT_EVENTS = 200_000;
/** The longest range one export covers, so its per-second activity stays bounded. */
export const MAX_EXPORT_SECONDS = 7 * 86_400;

export class ExportTooLargeError extends Error {
  override name = 'ExportTooLargeError';
}

type History = (query: HistoryQuery) => Promise<string>;
interface Page {
  events: TimelineEvent[];
  next?: string;
}

async function readAll(history: History, query: HistoryQuery): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = JSON.parse(
      await history({ ...query, limit: MAX_HISTORY_PAGE, ...(cursor ? { cursor } : {}) }),
    ) as Page;
    events.push(...page.events);
    if (events.length > MAX_EXPORT_EVENTS)
      throw new ExportTooLargeError(
        `more than ${MAX_EXPORT_EVENTS} events in the range; export a shorter one`,
      );
    cursor = page.next;
  } while (cursor);
  return events;
}

export async function streamExport(
  history: History,
  stream: string,
  range: TimeRange,
): Promise<StreamExport> {
  if ((range.to - range.from) / 1000 > MAX_EXPORT_SECONDS)
    throw new ExportTooLargeError(`a range longer than ${MAX_EXPORT_SECONDS / 86_400} days`);
  const inRange = { stream, from: range.from, to: range.to };
  const [changes, lists] = await Promise.all([
    readAll(history, { ...inRange, type: 'answer-change' }),
    readAll(history, { ...inRange, type: 'questions' }),
  ]);
  const events = [...changes, ...lists].sort((a, b) => a.at - b.at);
  // Each question's answer as the range opens: its newest change before it (one page back).
  const earlier = JSON.parse(
    await history({
      stream,
      to: range.from - 1,
      type: 'answer-change',
      order: 'desc',
      limit: MAX_HISTORY_PAGE,
    }),
  ) as Page;
  // …unless it was removed before the range: the question list as the range opens says.
  const [list] = (
    JSON.parse(
      await history({ stream, to: range.from - 1, type: 'questions', order: 'desc', limit: 1 }),
    ) as Page
  ).events;
  const standing =
    list?.message.type === 'questions' ? new Set(list.message.questions.map((q) => q.id)) : null;
  const before = new Map<string, AnswerChangeMessage>();
  for (const { message } of earlier.events)
    if (
      message.type === 'answer-change' &&
      !before.has(message.questionId) &&
      (!standing || standing.has(message.questionId))
    )
      before.set(message.questionId, message);
  const spans = answerSpans(events, range, [...before.values()]);
  return { stream, range, spans, activity: instrumentActivity(spans, range) };
}
