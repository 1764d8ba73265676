/**
 * Exports for studios: the answer spans and per-second instrument activity computed from logged
 * changes, each format read back with an independent parser (csv-parse for CSV and REAPER's
 * region list; Audacity's label track line by line), and the HTTP route on a live monitor.
 */
import { parse } from 'csv-parse/sync';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerChangeMessage, QuestionsMessage } from '../shared/protocol/messages.js';
import {
  answerSpans,
  instrumentActivity,
  type TimelineEvent,
} from '../server/exports/answer-timeline.js';
import { EXPORT_WRITERS, csvField, type StreamExport } from '../server/exports/export-formats.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { demoStream, startLiveMonitor, type LiveMonitor } from './support/live-monitor.js';

const T0 = Date.UTC(2026, 10, 25, 20, 0, 0);
const FLUTE = 'Is there a flute sound?';
const VIOLIN = 'Is there a violin sound?';

function change(questionId: string, sentence: string, to: string, at: number): TimelineEvent {
  const message: AnswerChangeMessage = {
    type: 'answer-change',
    stream: 'stage',
    questionId,
    sentence,
    from: null,
    to,
    confidence: 0.9,
    window: { start: 0, end: 1 },
    at,
  };
  return { at, message };
}

function questions(ids: string[], at: number): TimelineEvent {
  const message: QuestionsMessage = {
    type: 'questions',
    stream: 'stage',
    questions: ids.map((id) => ({
      id,
      templateId: 'audio-object-heard',
      sentence: id === 'q1' ? FLUTE : VIOLIN,
      type: { modality: 'Audio', kind: 'Counting' },
    })),
  };
  return { at, message };
}

// Flute: no until 2 s, yes 2–6 s, no after. Violin: yes from before the range, removed at 5 s.
const range = { from: T0, to: T0 + 8000 };
const before = [change('q2', VIOLIN, 'yes', T0 - 5000).message as AnswerChangeMessage];
const events = [
  change('q1', FLUTE, 'no', T0 + 100),
  change('q1', FLUTE, 'yes', T0 + 2000),
  questions(['q1'], T0 + 5000),
  change('q1', FLUTE, 'no', T0 + 6000),
];

describe('answer spans and instrument activity', () => {
  const spans = answerSpans(events, range, before);

  it('spans each answer until the next change, a removal, or the range end', () => {
    expect(spans.map((s) => [s.questionId, s.answer, s.start - T0, s.end - T0])).toEqual([
      ['q2', 'yes', 0, 5000], // known from before the range, ends with its removal
      ['q1', 'no', 100, 2000],
      ['q1', 'yes', 2000, 6000],
      ['q1', 'no', 6000, 8000],
    ]);
  });

  it('says per second which instruments sounded, from "Is there a X sound?" answers', () => {
    const activity = instrumentActivity(spans, range);
    expect(activity).toHaveLength(8);
    expect(activity.map((a) => a.instruments.join('+'))).toEqual([
      'violin',
      'violin',
      'flute+violin',
      'flute+violin',
      'flute+violin',
      'flute',
      '',
      '',
    ]);
    expect(activity[3]!.at).toBe(T0 + 3000);
  });

  const data: StreamExport = {
    stream: 'stage',
    range,
    spans,
    activity: instrumentActivity(spans, range),
  };

  it('writes a timeline CSV that a CSV parser reads back', () => {
    const rows = parse(EXPORT_WRITERS.csv.write(data), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows).toHaveLength(4);
    expect(rows[2]).toMatchObject({
      start_s: '2.000',
      end_s: '6.000',
      start_utc: '2026-11-25T20:00:02.000Z',
      question: FLUTE,
      answer: 'yes',
      confidence: '0.900',
    });
  });

  it('writes the activity as one column per instrument', () => {
    const rows = parse(EXPORT_WRITERS['activity-csv'].write(data), { columns: true }) as Record<
      string,
      string
    >[];
    expect(Object.keys(rows[0]!)).toEqual(['second', 'utc', 'flute', 'violin']);
    expect(rows.map((r) => `${r.flute}${r.violin}`)).toEqual([
      '01',
      '01',
      '11',
      '11',
      '11',
      '10',
      '00',
      '00',
    ]);
  });

  it("writes Audacity's label track: start, end and label, tab-separated", () => {
    const lines = EXPORT_WRITERS.audacity.write(data).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const [start, end, label] = lines[2]!.split('\t');
    expect([Number(start), Number(end), label]).toEqual([2, 6, `${FLUTE} yes`]);
  });

  it("writes REAPER's region list", () => {
    const rows = parse(EXPORT_WRITERS.reaper.write(data), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows[2]).toEqual({
      '#': 'R3',
      Name: `${FLUTE} yes`,
      Start: '2.000',
      End: '6.000',
      Length: '4.000',
    });
  });

  it('quotes CSV fields that hold commas, quotes or line breaks', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, "b"\n')).toBe('"a, ""b""\n"');
    expect(parse(`${csvField('a, "b"\n')},x\r\n`)).toEqual([['a, "b"\n', 'x']]);
  });
});

describe('GET /api/streams/:id/export on a live monitor', () => {
  const TOKEN = 'export-token';
  let live: LiveMonitor;
  let started = 0;
  const exported = (query: string, token = TOKEN) =>
    fetch(`${live.monitor.url}/api/streams/demo/export?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });

  beforeAll(async () => {
    started = Date.now();
    live = await startLiveMonitor(
      {
        profile: path.join(REPO_ROOT, 'models', 'tiny'),
        token: TOKEN,
        windowSeconds: 3,
        hopSeconds: 1,
        database: ':memory:',
        streams: [demoStream(['Is there a flute sound?', 'Is there a piano sound?'])],
      },
      ['demo'],
    );
    await live.waitFor(() => live.messages.filter((m) => m.type === 'answer').length >= 8, {
      timeout: 60_000,
    });
  }, 90_000);

  afterAll(() => live?.stop());

  it('exports what the stream answered, in each format, as a download', async () => {
    const to = Date.now();
    const response = await exported(`format=json&from=${started}&to=${to}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="tutti-demo-.*\.json"$/,
    );
    const body = (await response.json()) as {
      timeline: { questionId: string; answer: string; startSeconds: number; endSeconds: number }[];
      activity: { second: number; instruments: string[] }[];
    };
    // Every answer the dashboard saw is inside a span of the same answer.
    const answers = live.messages.filter((m) => m.type === 'answer' && m.audioEndedAt <= to);
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) {
      if (answer.type !== 'answer') continue;
      const second = (answer.audioEndedAt - started) / 1000;
      // At a change, the span that starts there (the one ending there comes first).
      const span = body.timeline.findLast(
        (s) =>
          s.questionId === answer.questionId && s.startSeconds <= second && second <= s.endSeconds,
      );
      expect(span?.answer).toBe(answer.answer);
    }
    expect(body.activity).toHaveLength(Math.ceil((to - started) / 1000));

    for (const format of ['csv', 'activity-csv', 'reaper'] as const) {
      const text = await (await exported(`format=${format}&from=${started}&to=${to}`)).text();
      expect(() => parse(text, { columns: true }), format).not.toThrow();
    }
    const labels = await (await exported(`format=audacity&from=${started}&to=${to}`)).text();
    expect(labels.trimEnd().split('\n').length).toBe(body.timeline.length);
  });

  it('refuses readers without the token, unknown formats and reversed ranges, with the reason', async () => {
    expect((await exported('format=json', 'wrong')).status).toBe(401);
    const bad = await exported('format=midi');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/format/);
    expect((await exported('from=2000&to=1000')).status).toBe(400);
    const missing = await fetch(`${live.monitor.url}/api/streams/nope/export`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missing.status).toBe(404);
  });
});
