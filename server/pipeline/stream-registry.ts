/**
 * The monitor's live streams: each source supervised (restarted with backoff, a stalled one
 * killed) and piped through the answering pipeline, its state reported as it changes, an ended
 * stream removed after a grace period; and what users change on them — captures, standing
 * questions, alert rules — announced to everyone as it changes.
 */
import { PassThrough, type Writable } from 'node:stream';
import { defer, tap } from 'rxjs';
import type { ServerMessage, StandingQuestionMessage } from '../../shared/protocol/messages.js';
import type { RuleMessage, RuleRequest } from '../../shared/protocol/rules.js';
import type { Inference } from '../encoders/inference-pool.js';
import type { EventLog } from '../storage/event-log.js';
import { restoreStanding } from '../answers/restore-standing.js';
import { pipedMediaSource } from '../sources/media-file-source.js';
import { superviseSource } from '../sources/supervise-source.js';
import {
  countDelivered,
  newLiveStream,
  streamStatus,
  type LiveStream,
  type StreamConfig,
} from './live-stream.js';
import { runStream } from './stream-pipeline.js';

export interface StreamLimits {
  /** Browser captures and recordings at once (default 4). */
  readonly maxCaptures?: number;
  /** How long a stream that ended stays listed before it is removed (default 60 s). */
  readonly endedStreamSeconds?: number;
  /** A source silent this long is restarted (default 10 s). */
  readonly stallSeconds?: number;
  /** Delivering this long makes a source healthy again: its retry backoff starts over (60 s). */
  readonly healthySeconds?: number;
}

export interface StreamRegistryOptions {
  readonly inference: Inference;
  readonly patchGrid: [number, number];
  readonly tokenize: (sentence: string) => number[];
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly limits: StreamLimits;
  /** Where standing questions and rules are restored from. */
  readonly events: EventLog;
  /** A message for the dashboards, the log and the outputs. */
  readonly publish: (message: ServerMessage) => void;
  /** The list of streams changed (dashboards only: the list is not history). */
  readonly listChanged: (streams: string[]) => void;
  readonly removed: (stream: string) => void;
  readonly log: (line: string) => void;
}

export class StreamRegistry {
  readonly streams = new Map<string, LiveStream>();

  constructor(private readonly options: StreamRegistryOptions) {}

  ids(): string[] {
    return [...this.streams.keys()];
  }

  start(config: StreamConfig): void {
    const { options } = this;
    const live = newLiveStream(config, options.tokenize);
    restoreStanding(live, options.events, options.log);
    this.streams.set(config.id, live);
    options.listChanged(this.ids());
    const source = defer(() => config.source()).pipe(
      tap(() => live.state !== 'live' && this.setState(live, 'live')),
      countDelivered(live),
      superviseSource({
        retry: config.retry !== false,
        stallSeconds: options.limits.stallSeconds ?? 10,
        healthySeconds: options.limits.healthySeconds ?? 60,
        maxWaitSeconds: 30,
        onRetry: (error, wait) => {
          live.totals.restarts += 1;
          this.setState(live, 'retrying', `${error.message.split('\n')[0]}; retrying in ${wait} s`);
        },
      }),
    );
    live.subscription = runStream(
      config.id,
      source,
      options.inference,
      live.questions,
      {
        windowSeconds: options.windowSeconds,
        hopSeconds: options.hopSeconds,
        patchGrid: options.patchGrid,
        onRejected: (segment, reason) =>
          options.publish({
            type: 'error',
            message: `stream ${config.id}: segment ${segment.index} rejected: ${reason}`,
          }),
        onSegment: (segment) => (live.frame = segment.frame),
      },
      live.counters,
    ).subscribe({
      next: (message) => options.publish(message),
      error: (error: Error) => this.setState(live, 'stopped', error.message),
      complete: () => this.setState(live, 'stopped', 'source ended'),
    });
  }

  /** A stream fed by the returned byte sink: a browser's capture, or a recording at its speed. */
  startCapture(stream: string, recording?: { speed: number }): Writable {
    const existing = this.streams.get(stream);
    if (existing && existing.state !== 'stopped')
      throw new Error(`stream "${stream}" exists already`);
    clearTimeout(existing?.removal); // an ended one is replaced
    const captures = [...this.streams.values()].filter(
      (live) => live.config.retry === false && live.state !== 'stopped',
    ).length;
    const maxCaptures = this.options.limits.maxCaptures ?? 4;
    if (captures >= maxCaptures)
      throw new Error(
        `${captures} captures are running, the most this monitor takes (TUTTI_MAX_CAPTURES)`,
      );
    const bytes = new PassThrough();
    this.start({
      id: stream,
      source: () =>
        pipedMediaSource(`${recording ? 'recording' : 'capture'} ${stream}`, bytes, {
          ...(recording ? { readRate: recording.speed } : {}),
        }),
      retry: false,
    });
    return bytes;
  }

  addQuestion(
    stream: string,
    question: string,
    values: readonly string[],
  ): StandingQuestionMessage {
    const questions = this.streams.get(stream)!.questions;
    const added = questions.add(question, values);
    this.announceQuestions(stream);
    return questions.describe().find((q) => q.id === added.id)!;
  }

  removeQuestion(stream: string, id: string): boolean {
    const removed = this.streams.get(stream)!.questions.remove(id);
    if (removed) this.announceQuestions(stream);
    return removed;
  }

  addRule(stream: string, rule: RuleRequest): RuleMessage {
    const added = this.streams.get(stream)!.rules.add(rule);
    this.announceRules(stream);
    return added;
  }

  removeRule(stream: string, id: string): boolean {
    const removed = this.streams.get(stream)!.rules.remove(id);
    if (removed) this.announceRules(stream);
    return removed;
  }

  /** What a new subscriber gets at once: the stream's questions, rules and status. */
  snapshot(stream: string): ServerMessage[] {
    const live = this.streams.get(stream)!;
    return [
      { type: 'questions', stream, questions: live.questions.describe() },
      { type: 'rules', stream, rules: live.rules.list() },
      streamStatus(live),
    ];
  }

  stopAll(): void {
    for (const live of this.streams.values()) {
      live.subscription?.unsubscribe();
      clearTimeout(live.removal);
    }
  }

  private announceQuestions(stream: string): void {
    const questions = this.streams.get(stream)!.questions.describe();
    this.options.publish({ type: 'questions', stream, questions });
  }

  private announceRules(stream: string): void {
    this.options.publish({ type: 'rules', stream, rules: this.streams.get(stream)!.rules.list() });
  }

  private setState(live: LiveStream, state: LiveStream['state'], detail?: string): void {
    live.state = state;
    live.detail = detail;
    this.options.log(`stream ${live.config.id}: ${state}${detail ? ` (${detail})` : ''}`);
    this.options.publish(streamStatus(live));
    if (state === 'stopped') {
      const grace = (this.options.limits.endedStreamSeconds ?? 60) * 1000;
      live.removal = setTimeout(() => this.remove(live), grace);
      live.removal.unref();
    }
  }

  /** An ended stream leaves the list (its log stays), so ended captures do not pile up. */
  private remove(live: LiveStream): void {
    if (this.streams.get(live.config.id) !== live) return;
    this.streams.delete(live.config.id);
    this.options.removed(live.config.id);
    this.options.log(`stream ${live.config.id}: removed, ended`);
    this.options.listChanged(this.ids());
  }
}
