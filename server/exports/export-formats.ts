/**
 * A stream's answer timeline and instrument activity written out for studio tools: JSON, CSV
 * (RFC 4180), an Audacity label track, a REAPER region list. Times are seconds from the
 * export's start (where a recording made at the same time starts), with wall-clock UTC beside
 * them where the format has room.
 */
import type { ActivitySecond, AnswerSpan, TimeRange } from './answer-timeline.js';

export const EXPORT_FORMATS = ['json', 'csv', 'activity-csv', 'audacity', 'reaper'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface StreamExport {
  readonly stream: string;
  readonly range: TimeRange;
  readonly spans: readonly AnswerSpan[];
  readonly activity: readonly ActivitySecond[];
}

const seconds = (ms: number, range: TimeRange) => (ms - range.from) / 1000;
const utc = (ms: number) => new Date(ms).toISOString();

/** One CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csv = (rows: ReadonlyArray<ReadonlyArray<string | number>>) =>
  rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';

const spanLabel = (span: AnswerSpan) => `${span.sentence} ${span.answer}`;

function timelineCsv({ spans, range }: StreamExport): string {
  return csv([
    ['start_s', 'end_s', 'start_utc', 'end_utc', 'question_id', 'question', 'answer', 'confidence'],
    ...spans.map((s) => [
      seconds(s.start, range).toFixed(3),
      seconds(s.end, range).toFixed(3),
      utc(s.start),
      utc(s.end),
      s.questionId,
      s.sentence,
      s.answer,
      s.confidence.toFixed(3),
    ]),
  ]);
}

/** One column per instrument that sounded at all: 1 in the seconds it did. */
function activityCsv({ activity }: StreamExport): string {
  const instruments = [...new Set(activity.flatMap((a) => a.instruments))].sort();
  return csv([
    ['second', 'utc', ...instruments],
    ...activity.map((a) => [
      a.second,
      utc(a.at),
      ...instruments.map((i) => (a.instruments.includes(i) ? 1 : 0)),
    ]),
  ]);
}

/** Audacity's label track: start, end (seconds) and label, tab-separated, one per line. */
function audacityLabels({ spans, range }: StreamExport): string {
  return spans
    .map(
      (s) =>
        `${seconds(s.start, range).toFixed(6)}\t${seconds(s.end, range).toFixed(6)}\t${spanLabel(s).replace(/[\t\r\n]/g, ' ')}\n`,
    )
    .join('');
}

/**
 * REAPER's Region/Marker Manager list (`#,Name,Start,End,Length`): one region per answer span,
 * times in seconds (REAPER reads them with its time unit set to seconds).
 */
function reaperRegions({ spans, range }: StreamExport): string {
  return csv([
    ['#', 'Name', 'Start', 'End', 'Length'],
    ...spans.map((s, i) => [
      `R${i + 1}`,
      spanLabel(s),
      seconds(s.start, range).toFixed(3),
      seconds(s.end, range).toFixed(3),
      ((s.end - s.start) / 1000).toFixed(3),
    ]),
  ]);
}

function json({ stream, range, spans, activity }: StreamExport): string {
  return JSON.stringify({
    stream,
    from: utc(range.from),
    to: utc(range.to),
    timeline: spans.map((s) => ({
      ...s,
      startSeconds: seconds(s.start, range),
      endSeconds: seconds(s.end, range),
    })),
    activity,
  });
}

export const EXPORT_WRITERS: Record<
  ExportFormat,
  { write: (data: StreamExport) => string; contentType: string; extension: string }
> = {
  json: { write: json, contentType: 'application/json; charset=utf-8', extension: 'json' },
  csv: { write: timelineCsv, contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  'activity-csv': {
    write: activityCsv,
    contentType: 'text/csv; charset=utf-8',
    extension: 'activity.csv',
  },
  audacity: { write: audacityLabels, contentType: 'text/plain; charset=utf-8', extension: 'txt' },
  reaper: { write: reaperRegions, contentType: 'text/csv; charset=utf-8', extension: 'reaper.csv' },
};
