/** What the HTTP API and the WebSocket hub ask of the monitor about its streams. */
import type { ServerMessage, StandingQuestionMessage } from '../../shared/protocol/messages.js';
import type { RuleMessage, RuleRequest } from '../../shared/protocol/rules.js';
import type { Writable } from 'node:stream';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import type { HealthResponse } from '../../shared/protocol/health.js';
import type { HistoryQuery } from '../storage/history-page.js';

export interface StreamControl {
  listStreams(): string[];
  hasStream(stream: string): boolean;
  listQuestions(stream: string): StandingQuestionMessage[];
  /** Throws QuestionParseError for a question outside the question space. */
  addQuestion(stream: string, question: string, values: readonly string[]): StandingQuestionMessage;
  removeQuestion(stream: string, questionId: string): boolean;
  listRules(stream: string): RuleMessage[];
  /** Throws RuleError with the reason for a rule that cannot be added. */
  addRule(stream: string, rule: RuleRequest): RuleMessage;
  removeRule(stream: string, ruleId: string): boolean;
  /** Messages a new subscriber gets at once: the stream's questions and status. */
  snapshot(stream: string): ServerMessage[];
  /**
   * A new stream fed by the returned byte sink (a browser's capture, or with `recording` a file
   * played at its speed); throws if the id is taken.
   */
  startCapture(stream: string, recording?: { speed: number }): Writable;
  /** The frame of the stream's latest segment; undefined before one, or for no such stream. */
  latestFrame(stream: string): RgbFrame | undefined;
  /** A page of what the stream said in a time range, from the event log, as its JSON body. */
  history(query: HistoryQuery): Promise<string>;
  /** Whether the monitor is whole, and if not, why. */
  health(): HealthResponse;
}
