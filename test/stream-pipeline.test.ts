/**
 * The pipeline on a made-up source: a bad chunk (a NaN sample) costs its segment, with a reason,
 * and the stream goes on answering; answer changes come out as events of their own.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StandingQuestions } from '../server/answers/standing-questions.js';
import { InferenceClient } from '../server/encoders/inference-client.js';
import { runStream } from '../server/pipeline/stream-pipeline.js';
import type { SourceEvent } from '../server/sources/media-file-source.js';
import type { AnswerChangeMessage, AnswerMessage } from '../shared/protocol/messages.js';
import { repoPath } from './support/run-cli.js';

function source(seconds: number, badSecond: number): SourceEvent[] {
  const events: SourceEvent[] = [];
  const frame = { width: 64, height: 36, data: new Uint8Array(64 * 36 * 3).fill(120) };
  for (let chunk = 0; chunk < seconds * 50; chunk++) {
    const samples = Float32Array.from(
      { length: 320 },
      (_, i) => 0.1 * Math.sin((chunk * 320 + i) / 5),
    );
    if (Math.floor(chunk / 50) === badSecond && chunk % 50 === 10) samples[7] = Number.NaN;
    if (chunk % 25 === 0) events.push({ kind: 'frame', time: chunk / 50, frame });
    events.push({ kind: 'audio', time: chunk / 50, samples });
  }
  return events;
}

describe('stream pipeline', () => {
  let inference: InferenceClient;
  beforeAll(async () => {
    inference = await InferenceClient.start({
      profile: repoPath('models', 'tiny'),
      variant: 'full',
    });
  }, 30_000);
  afterAll(() => inference.close());

  it('refuses a segment with a bad sample, says why, and answers the rest', async () => {
    const questions = new StandingQuestions();
    questions.add('Is there a flute sound?');
    const rejected: string[] = [];
    const counters = { segments: 0, skippedSegments: 0, skippedHops: 0 };
    const messages = await lastValueFrom(
      runStream(
        'made-up',
        from(source(5, 2)),
        inference,
        questions,
        {
          windowSeconds: 10,
          hopSeconds: 1,
          patchGrid: [4, 8],
          maxPendingSegments: 10,
          onRejected: (segment, reason) => rejected.push(`${segment.index}: ${reason}`),
        },
        counters,
      ).pipe(toArray()),
    );
    expect(rejected).toEqual([expect.stringMatching(/^2: audio chunk: sample \d+ is NaN/)]);
    expect(counters).toMatchObject({ segments: 4, skippedSegments: 1 });
    const answers = messages.filter((m): m is AnswerMessage => m.type === 'answer');
    // The source bursts (no real-time pacing), so hops that find the head busy are skipped and
    // counted. Each answer covers the window as it was when its hop began.
    expect(answers.length + counters.skippedHops).toBe(4);
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) {
      expect(answer.window.start).toBe(0);
      // Segment 2 was refused: windows ending after it hold one segment fewer than they span.
      const segments = answer.window.end > 2 ? answer.window.end - 1 : answer.window.end;
      expect(answer.attention.temporal).toHaveLength(segments);
    }
    // Each analysed segment is summarised for the dashboard from the worker's log-mel (96 frames
    // in groups of 4, 64 bands); the refused one is not.
    const segments = messages.flatMap((m) => (m.type === 'segment' ? [m] : []));
    expect(segments.map((m) => m.index)).toEqual([0, 1, 3, 4]);
    for (const segment of segments) {
      expect(segment.spectrogram).toHaveLength(24);
      expect(segment.spectrogram[0]).toHaveLength(64);
      // A 0.1-amplitude sine: about −23 dBFS.
      expect(segment.levelDb).toBeCloseTo(-23, 0);
    }
    // An answer-change event follows each answer that differs from the one before (the first
    // differs from none), and no other.
    const changes = messages.filter((m): m is AnswerChangeMessage => m.type === 'answer-change');
    const expected = answers.flatMap((answer, i) =>
      i === 0 || answers[i - 1]!.answer !== answer.answer
        ? [
            {
              from: i === 0 ? null : answers[i - 1]!.answer,
              to: answer.answer,
              window: answer.window,
            },
          ]
        : [],
    );
    expect(changes.map(({ from, to, window }) => ({ from, to, window }))).toEqual(expected);
    expect(answers.map((a) => a.changed)).toEqual(
      answers.map((_, i) => i > 0 && expected.some((c) => c.window === answers[i]!.window)),
    );
  }, 30_000);
});
