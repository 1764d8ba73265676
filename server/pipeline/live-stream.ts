/** One stream the monitor runs: its standing questions, counters and state, and its status. */
import { tap, type MonoTypeOperatorFunction, type Observable, type Subscription } from 'rxjs';
import { StandingQuestions } from '../answers/standing-questions.js';
import { StreamRules } from '../alerts/stream-rules.js';
import { SOURCE_SAMPLE_RATE } from '../sources/media-file-source.js';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import type { RuleRequest } from '../../shared/protocol/rules.js';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import type { SourceEvent } from '../sources/media-file-source.js';
import type { StreamCounters } from './stream-pipeline.js';

export interface StreamConfig {
  readonly id: string;
  readonly source: () => Observable<SourceEvent>;
  readonly questions?: readonly string[];
  /** Alert rules it starts with when none were logged (as for questions). */
  readonly rules?: readonly RuleRequest[];
  /** Restart the source when it fails (not for one-shot sources such as a browser capture). */
  readonly retry?: boolean;
}

export interface LiveStream {
  readonly config: StreamConfig;
  readonly questions: StandingQuestions;
  readonly rules: StreamRules;
  readonly counters: StreamCounters;
  state: 'starting' | 'live' | 'retrying' | 'stopped';
  frame?: RgbFrame;
  detail?: string;
  /** What the source delivered since `since` (wall clock, ms), for the rates in its status. */
  delivered: { frames: number; audioSeconds: number; since: number };
  /** Since the stream started: what its source delivered, and how often it was restarted. */
  readonly totals: { frames: number; audioSeconds: number; restarts: number };
  subscription?: Subscription;
  /** Removes it once it has ended (after the grace period). */
  removal?: NodeJS.Timeout;
}

/** A stream about to start: no questions or rules yet, nothing delivered. */
export function newLiveStream(
  config: StreamConfig,
  tokenize: (sentence: string) => number[],
): LiveStream {
  const questions = new StandingQuestions(tokenize);
  return {
    config,
    questions,
    rules: new StreamRules(config.id, (id) => questions.describe().some((q) => q.id === id)),
    counters: { segments: 0, skippedSegments: 0, skippedHops: 0 },
    state: 'starting',
    delivered: { frames: 0, audioSeconds: 0, since: performance.now() },
    totals: { frames: 0, audioSeconds: 0, restarts: 0 },
  };
}

/** Counts what the source delivers: into the rates of the next status, and the totals. */
export function countDelivered(live: LiveStream): MonoTypeOperatorFunction<SourceEvent> {
  return tap((event) => {
    if (event.kind === 'frame') {
      live.delivered.frames += 1;
      live.totals.frames += 1;
    } else {
      const seconds = event.samples.length / SOURCE_SAMPLE_RATE;
      live.delivered.audioSeconds += seconds;
      live.totals.audioSeconds += seconds;
    }
  });
}

/** The stream's status; `rates` also reports what its source delivered since the last one. */
export function streamStatus(live: LiveStream, rates = false): ServerMessage {
  const now = performance.now();
  const { delivered } = live;
  const elapsed = (now - delivered.since) / 1000;
  const measured =
    rates && elapsed > 0
      ? {
          fps: Math.round((delivered.frames / elapsed) * 100) / 100,
          speed: Math.round((delivered.audioSeconds / elapsed) * 100) / 100,
        }
      : {};
  if (rates) live.delivered = { frames: 0, audioSeconds: 0, since: now };
  return {
    type: 'stream-status',
    stream: live.config.id,
    state: live.state,
    ...(live.detail ? { detail: live.detail } : {}),
    segments: live.counters.segments,
    skippedHops: live.counters.skippedHops + live.counters.skippedSegments,
    ...measured,
  };
}
