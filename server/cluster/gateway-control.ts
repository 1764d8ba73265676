/**
 * What a gateway's HTTP routes and WebSocket hub may ask and change (StreamControl), answered
 * from the cluster's shared state instead of a process's own streams: the streams are those the
 * stream directory lists, the standing bucket holds questions for or the bus has heard from, questions are read from and
 * written to the bucket (every inference node and gateway sees a change within a round trip), and
 * a capture started here is ingested here (its segments go to the queue like any other stream's),
 * the history is read from the answer log, and alert rules are stored with the questions (the
 * gateway holding the alerts lease fires them, cluster-alerts.ts). Pictures stay with the ingest
 * nodes: a gateway has none to show.
 */
import type { Writable } from 'node:stream';
import type { HealthResponse } from '../../shared/protocol/health.js';
import type { ServerMessage, StandingQuestionMessage } from '../../shared/protocol/messages.js';
import type { RuleMessage, RuleRequest } from '../../shared/protocol/rules.js';
import { StandingQuestions } from '../answers/standing-questions.js';
import type { StreamControl } from '../hub/stream-control.js';
import type { HistoryQuery } from '../storage/history-page.js';
import { ruleSet } from './cluster-alerts.js';
import type { StandingKv } from './standing-kv.js';
import type { StreamDirectory } from './stream-directory.js';

export interface GatewayControlOptions {
  /** Starts ingesting a capture's bytes as stream `stream`; throws if it cannot. */
  readonly startCapture: (stream: string, recording?: { speed: number }) => Writable;
  /** A page of a stream's history, from the answer log (log-history.ts). */
  readonly history: (query: HistoryQuery) => Promise<string>;
  /** Whether the bus is reachable now. */
  readonly connected: () => boolean;
  readonly log: (line: string) => void;
}

export class GatewayControl implements StreamControl {
  private readonly heard = new Set<string>();
  private readonly status = new Map<string, Extract<ServerMessage, { type: 'stream-status' }>>();
  private readonly started = Date.now();

  constructor(
    private readonly standing: StandingKv,
    private readonly directory: StreamDirectory,
    private readonly options: GatewayControlOptions,
  ) {}

  /** Takes note of what the bus says: a stream it names exists; its latest status is kept. */
  observe(message: ServerMessage): void {
    if (!('stream' in message)) return;
    this.heard.add(message.stream);
    if (message.type === 'stream-status') this.status.set(message.stream, message);
  }

  listStreams(): string[] {
    const { directory, standing, heard } = this;
    return [...new Set([...directory.streams(), ...standing.streams(), ...heard])].sort();
  }

  hasStream(stream: string): boolean {
    return this.listStreams().includes(stream);
  }

  listQuestions(stream: string): StandingQuestionMessage[] {
    return this.standing.latest(stream, 'questions')?.questions ?? [];
  }

  addQuestion(stream: string, question: string, values: readonly string[]) {
    const questions = this.questionsOf(stream);
    const added = questions.add(question, values);
    this.store(stream, questions);
    return questions.describe().find((q) => q.id === added.id)!;
  }

  removeQuestion(stream: string, questionId: string): boolean {
    const questions = this.questionsOf(stream);
    if (!questions.remove(questionId)) return false;
    this.store(stream, questions);
    return true;
  }

  listRules(stream: string): RuleMessage[] {
    return this.standing.latest(stream, 'rules')?.rules ?? [];
  }

  addRule(stream: string, request: RuleRequest): RuleMessage {
    const rules = ruleSet(stream, this.standing, this.listRules(stream));
    const added = rules.add(request);
    this.storeRules(stream, rules.list());
    return added;
  }

  removeRule(stream: string, ruleId: string): boolean {
    const rules = ruleSet(stream, this.standing, this.listRules(stream));
    if (!rules.remove(ruleId)) return false;
    this.storeRules(stream, rules.list());
    return true;
  }

  snapshot(stream: string): ServerMessage[] {
    const status = this.status.get(stream);
    return [
      { type: 'questions', stream, questions: this.listQuestions(stream) },
      { type: 'rules', stream, rules: this.listRules(stream) },
      ...(status ? [status] : []),
    ];
  }

  startCapture(stream: string, recording?: { speed: number }): Writable {
    if (this.hasStream(stream)) throw new Error(`stream "${stream}" exists already`);
    const bytes = this.options.startCapture(stream, recording);
    // The stream is announced to every gateway by its (empty) questions in the bucket.
    this.store(stream, this.questionsOf(stream));
    return bytes;
  }

  latestFrame(): undefined {
    return undefined; // pictures stay with the ingest nodes
  }

  history(query: HistoryQuery): Promise<string> {
    return this.options.history(query);
  }

  health(): HealthResponse {
    const connected = this.options.connected();
    return {
      status: connected ? 'ok' : 'degraded',
      reasons: connected ? [] : ['the gateway cannot reach NATS'],
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
    };
  }

  private questionsOf(stream: string): StandingQuestions {
    const questions = new StandingQuestions();
    questions.restore(this.listQuestions(stream));
    return questions;
  }

  /** Into the bucket; a failure (the bus away) is told to whoever watches the log. */
  private store(stream: string, questions: StandingQuestions): void {
    this.standing
      .save({ type: 'questions', stream, questions: questions.describe() })
      .catch((error: Error) =>
        this.options.log(`gateway: questions of ${stream} not stored: ${error.message}`),
      );
  }

  private storeRules(stream: string, rules: RuleMessage[]): void {
    this.standing
      .save({ type: 'rules', stream, rules })
      .catch((error: Error) =>
        this.options.log(`gateway: rules of ${stream} not stored: ${error.message}`),
      );
  }
}
