/** The SQLite event log: history by stream, type and time; pruning keeps what a restart needs. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLog, type LoggedEvent } from '../server/storage/event-log.js';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { liveStatus } from './support/status-message.js';

const questions = (stream: string, sentences: string[]): ServerMessage => ({
  type: 'questions',
  stream,
  questions: sentences.map((sentence, i) => ({
    id: `q${i + 1}`,
    templateId: 'audio-object-heard',
    sentence,
    type: { modality: 'Audio', kind: 'Counting' },
  })),
});

const answer: ServerMessage = {
  type: 'answer',
  stream: 'stage',
  questionId: 'q1',
  sentence: 'Is there a piano sound?',
  questionType: 'Audio/Counting',
  answer: 'yes',
  confidence: 0.7,
  alternatives: [{ answer: 'no', probability: 0.3 }],
  window: { start: 0, end: 2 },
  latencyMs: 20,
  audioEndedAt: 9 * 86_400_000,
  changed: false,
  attention: {
    frequency: [0.5, 0.5],
    temporal: [0.25, 0.75],
    spatial: [
      [0.5, 0.5],
      [0.1, 0.9],
    ],
    patchGrid: [1, 2],
  },
};

describe('event log', () => {
  it('prunes old events but keeps each stream’s latest questions, in a file that outlives it', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-log-')), 'events.sqlite');
    const log = new EventLog(file);
    const day = 86_400_000;
    log.record(questions('stage', ['Is there a flute sound?']), 1 * day);
    log.record(questions('stage', ['Is there a piano sound?']), 2 * day);
    log.record(questions('booth', ['Is there a cello sound?']), 2 * day);
    for (let d = 1; d <= 10; d++) log.record(liveStatus('stage', d), d * day);
    log.record(answer, 9 * day);
    log.record({
      type: 'segment',
      stream: 'stage',
      index: 0,
      start: 0,
      levelDb: -20,
      spectrogram: [],
    });

    expect(log.prune(8 * day)).toBe(1 + 7); // the older questions event and days 1–7
    log.close();

    const reopened = new EventLog(file);
    expect(reopened.history({ stream: 'stage', type: 'stream-status' }).map((e) => e.at)).toEqual([
      8 * day,
      9 * day,
      10 * day,
    ]);
    // What each stream stands at survives pruning: a restart needs it.
    expect(reopened.latest('stage', 'questions')?.questions.map((q) => q.sentence)).toEqual([
      'Is there a piano sound?',
    ]);
    expect(reopened.latest('booth', 'questions')?.questions).toHaveLength(1);
    expect(reopened.latest('nowhere', 'questions')).toBeUndefined();
    // An answer is kept with its evidence, less the per-segment spatial maps.
    const [kept] = reopened.history({ stream: 'stage', type: 'answer' });
    expect(kept?.message).toEqual({ ...answer, attention: { ...answer.attention, spatial: [] } });
    // Segments are not logged at all.
    expect(reopened.history({ stream: 'stage', type: 'segment' })).toEqual([]);
    expect(
      reopened
        .history({ stream: 'stage', type: 'stream-status', from: 9 * day, to: 9 * day })
        .map((e) => e.message),
    ).toEqual([liveStatus('stage', 9)]);
    reopened.close();
  });
});

describe('history pages', () => {
  it('pages through a stream newest first or oldest first, with a cursor, never more than the cap', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-pages-')), 'events.sqlite');
    const log = new EventLog(file);
    // Two events share a time: the cursor tells them apart by id.
    for (let k = 0; k < 25; k++) log.record(liveStatus('stage', k), 1000 + Math.floor(k / 2) * 10);
    log.record(liveStatus('booth', 99), 1000);
    const segmentsOf = (events: LoggedEvent[]) =>
      events.map((e) => (e.message as { segments: number }).segments);
    for (const order of ['asc', 'desc'] as const) {
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const body = JSON.parse(
          log.historyBody({ stream: 'stage', limit: 10, order, ...(cursor ? { cursor } : {}) }),
        ) as { events: LoggedEvent[]; next?: string };
        expect(body.events.length).toBeLessThanOrEqual(10);
        seen.push(...segmentsOf(body.events));
        cursor = body.next;
        if (!cursor) break;
      }
      const all = Array.from({ length: 25 }, (_, k) => k);
      expect(seen).toEqual(order === 'asc' ? all : all.reverse());
    }
    // The newest few, as the dashboard asks for them.
    expect(segmentsOf(log.history({ stream: 'stage', order: 'desc', limit: 3 }))).toEqual([
      24, 23, 22,
    ]);
    expect(() => log.historyBody({ stream: 'stage', cursor: 'x' })).toThrow(
      /not one this log gave/,
    );
    expect(JSON.parse(log.historyBody({ stream: 'stage', limit: 5000 })).events).toHaveLength(25);
    log.close();
  });
});
