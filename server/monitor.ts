/**
 * The monitor: HTTP and WebSocket on one port, one inference worker, the event log, and per stream
 * its standing questions and pipeline. A source that fails or stalls is reported and restarted
 * with backoff; a failing log or worker is reported while answering goes on (README: Reliability).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { defer, tap } from 'rxjs';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { InferenceClient } from './encoders/inference-client.js';
import { questionTokenizer, readManifest } from './encoders/model-manifest.js';
import { AccessPolicy } from './hub/access.js';
import { createHttpServer } from './hub/http-server.js';
import type { StreamControl } from './hub/stream-control.js';
import { WsHub } from './hub/ws-hub.js';
import { EventLog } from './storage/event-log.js';
import { HistoryReader } from './storage/history-reader.js';
import { runStream } from './pipeline/stream-pipeline.js';
import {
  countDelivered,
  newLiveStream,
  streamStatus,
  type LiveStream,
  type StreamConfig,
} from './pipeline/live-stream.js';
import { monitorHealth } from './hub/monitor-health.js';
import { restoreStanding } from './answers/restore-standing.js';
import { MonitorMetrics } from './hub/metrics.js';
import { OscOutput, type OscTarget } from './outputs/osc-output.js';
import { AlertDispatcher } from './alerts/alert-dispatcher.js';
import type { AlertMessage, RuleMessage } from '../shared/protocol/rules.js';
import { superviseSource } from './sources/supervise-source.js';
import { pipedMediaSource } from './sources/media-file-source.js';
import { PassThrough } from 'node:stream';

export type { StreamConfig } from './pipeline/live-stream.js';

export interface MonitorConfig {
  readonly profile: string;
  readonly variant?: string;
  readonly host: string;
  readonly port: number;
  /** The control token: adding and removing questions, starting captures (and reading). */
  readonly token: string;
  /** A token that may only read (answers, history, pictures); the control token reads too. */
  readonly readToken?: string;
  /** Host names besides the machine's own that `Host` and `Origin` may name. */
  readonly allowedHosts?: readonly string[];
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly streams: readonly StreamConfig[];
  /** SQLite file logging every answer and stream event (':memory:' keeps none across restarts). */
  readonly database: string;
  /** Days the log keeps events (default 7); pruned at start and every hour. */
  readonly retentionDays?: number;
  readonly log?: (line: string) => void;
  /** Limits and watchdogs; see the README's reliability section. */
  readonly limits?: MonitorLimits;
  /** Where answers and answer changes are sent as Open Sound Control. */
  readonly osc?: readonly OscTarget[];
  /** Signs webhook deliveries of alerts (HMAC-SHA256); unsigned without. */
  readonly webhookSecret?: string;
}

export interface MonitorLimits {
  /** Browser captures and recordings at once (default 4). */
  readonly maxCaptures?: number;
  /** How long a stream that ended stays listed before it is removed (default 60 s). */
  readonly endedStreamSeconds?: number;
  /** A source silent this long is restarted (default 10 s). */
  readonly stallSeconds?: number;
  /** Delivering this long makes a source healthy again: its retry backoff starts over (60 s). */
  readonly healthySeconds?: number;
  /** An inference request unanswered this long restarts the worker (default 30 s). */
  readonly hungWorkerSeconds?: number;
}

export class Monitor {
  private readonly streams = new Map<string, LiveStream>();
  private hub?: WsHub;
  private inference?: InferenceClient;
  private readonly control: StreamControl;
  private readonly events: EventLog;
  private readonly historyReader: HistoryReader;
  private heartbeat?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
  /** What every stream needs of the loaded profile, set once it is loaded. */
  private profile?: { patchGrid: [number, number]; tokenize: (sentence: string) => number[] };
  private readonly http;
  private readonly access: AccessPolicy;
  private readonly metrics: MonitorMetrics;
  private osc?: OscOutput;
  private readonly alerts: AlertDispatcher;
  private alertClock?: NodeJS.Timeout;
  url = '';

  constructor(private readonly config: MonitorConfig) {
    this.events = new EventLog(config.database, {
      onHealth: ({ failing, pending, dropped }) => {
        const line = failing
          ? `event log: writes failing (${failing}); ${pending} events wait, ${dropped} dropped so far; answering goes on`
          : `event log: writing again (${dropped} events dropped while it failed)`;
        this.log(line);
        if (failing) this.hub?.publish({ type: 'error', message: line });
      },
      onRecreated: () => {
        this.log('event log: the database file was deleted or replaced; created again');
        for (const live of this.streams.values())
          this.events.record({
            type: 'questions',
            stream: live.config.id,
            questions: live.questions.describe(),
          });
      },
    });
    this.historyReader = new HistoryReader(config.database);
    this.alerts = new AlertDispatcher({
      ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
      log: (line) => this.log(line),
    });
    this.control = this.controls();
    this.access = new AccessPolicy({
      controlToken: config.token,
      ...(config.readToken ? { readToken: config.readToken } : {}),
      ...(config.allowedHosts ? { allowedHosts: config.allowedHosts } : {}),
    });
    this.metrics = new MonitorMetrics({
      streams: () => this.streams.values(),
      hub: () => this.hub?.stats,
      eventLog: () => ({ ...this.events.health(), failedWrites: this.events.failedWrites }),
      inference: () => this.inference?.usage(),
      webhooks: () => this.alerts.webhooks.stats,
    });
    this.http = createHttpServer({
      control: this.control,
      access: this.access,
      metrics: this.metrics,
    });
  }

  private log(line: string): void {
    (this.config.log ?? console.log)(`tutti: ${line}`);
  }

  async start(): Promise<void> {
    // First: a malformed target stops the start with its reason.
    this.osc = new OscOutput(this.config.osc ?? [], (line) => this.log(line));
    const manifest = readManifest(this.config.profile);
    this.inference = await InferenceClient.start(
      { profile: this.config.profile, variant: this.config.variant ?? 'full' },
      {
        hungAfterMs: (this.config.limits?.hungWorkerSeconds ?? 30) * 1000,
        onHealth: ({ state, reason, restarts }) => {
          const line =
            state === 'restarting'
              ? `inference worker restarting (restart ${restarts}): ${reason}`
              : 'inference worker ready again';
          this.log(line);
          if (state === 'restarting') this.hub?.publish({ type: 'error', message: line });
        },
      },
    );
    this.log(
      `model profile ${manifest.profile} (${this.config.variant ?? 'full'}) on ${this.inference.provider}`,
    );
    // Listening first: the hub would re-emit a busy port as an unhandled 'error'.
    this.http.listen(this.config.port, this.config.host);
    await once(this.http, 'listening').catch((error: NodeJS.ErrnoException) => {
      void this.inference?.close();
      throw error.code === 'EADDRINUSE'
        ? new Error(
            `port ${this.config.port} on ${this.config.host} is in use; set TUTTI_PORT to a free port`,
          )
        : error;
    });
    this.hub = new WsHub(this.http, this.control, { access: this.access });
    const address = this.http.address() as AddressInfo;
    this.url = `http://${address.address}:${address.port}`;
    this.profile = { patchGrid: manifest.patchGrid, tokenize: questionTokenizer(manifest) };
    for (const stream of this.config.streams) this.startStream(stream);
    // Every answer is logged (about 1.5 KB with its attention maps): keep a bounded history.
    this.prune();
    this.pruner = setInterval(() => this.prune(), 3_600_000);
    // Health every few seconds: segments done and hops skipped, as they change (not for
    // streams that ended: nothing changes there).
    this.heartbeat = setInterval(
      () =>
        this.streams.forEach(
          (live) => live.state !== 'stopped' && this.publish(streamStatus(live, true)),
        ),
      5000,
    );
    // Each second, rules on the sources' state (a source that is not live).
    this.alertClock = setInterval(() => {
      for (const live of this.streams.values())
        for (const alert of live.rules.observeState(live.state === 'live', Date.now()))
          this.fire(alert);
    }, 1000);
  }

  private controls(): StreamControl {
    const questionsOf = (stream: string) => this.streams.get(stream)!.questions;
    const announce = (stream: string) =>
      this.publish({ type: 'questions', stream, questions: questionsOf(stream).describe() });
    return {
      listStreams: () => [...this.streams.keys()],
      startCapture: (stream: string, recording?: { speed: number }) => {
        const existing = this.streams.get(stream);
        if (existing && existing.state !== 'stopped')
          throw new Error(`stream "${stream}" exists already`);
        clearTimeout(existing?.removal); // an ended one is replaced
        const captures = [...this.streams.values()].filter(
          (live) => live.config.retry === false && live.state !== 'stopped',
        ).length;
        const maxCaptures = this.config.limits?.maxCaptures ?? 4;
        if (captures >= maxCaptures)
          throw new Error(
            `${captures} captures are running, the most this monitor takes (TUTTI_MAX_CAPTURES)`,
          );
        const bytes = new PassThrough();
        this.startStream({
          id: stream,
          source: () =>
            pipedMediaSource(`${recording ? 'recording' : 'capture'} ${stream}`, bytes, {
              ...(recording ? { readRate: recording.speed } : {}),
            }),
          retry: false,
        });
        return bytes;
      },
      latestFrame: (stream: string) => this.streams.get(stream)?.frame,
      hasStream: (stream: string) => this.streams.has(stream),
      listQuestions: (stream: string) => questionsOf(stream).describe(),
      addQuestion: (stream: string, question: string, values: readonly string[]) => {
        const added = questionsOf(stream).add(question, values);
        announce(stream);
        return questionsOf(stream)
          .describe()
          .find((q) => q.id === added.id)!;
      },
      removeQuestion: (stream: string, id: string) => {
        const removed = questionsOf(stream).remove(id);
        if (removed) announce(stream);
        return removed;
      },
      listRules: (stream: string) => this.streams.get(stream)!.rules.list(),
      addRule: (stream, rule) => {
        const added = this.streams.get(stream)!.rules.add(rule);
        this.announceRules(stream);
        return added;
      },
      removeRule: (stream, id) => {
        const removed = this.streams.get(stream)!.rules.remove(id);
        if (removed) this.announceRules(stream);
        return removed;
      },
      history: (query) => {
        if (this.config.database === ':memory:')
          return Promise.resolve(this.events.historyBody(query));
        this.events.flush(); // what waits in the buffer is history too
        return this.historyReader.page(query);
      },
      health: () =>
        monitorHealth(this.events.health(), this.inference?.status(), this.streams.values()),
      snapshot: (stream: string): ServerMessage[] => {
        const live = this.streams.get(stream)!;
        return [
          { type: 'questions', stream, questions: live.questions.describe() },
          { type: 'rules', stream, rules: live.rules.list() },
          streamStatus(live),
        ];
      },
    };
  }

  /** To the dashboards, and into the event log; an answer is checked against the alert rules. */
  private publish(message: ServerMessage): void {
    this.metrics.observe(message);
    this.osc?.send(message);
    this.events.record(message);
    this.hub?.publish(message);
    if (message.type === 'answer')
      for (const alert of this.streams.get(message.stream)?.rules.observeAnswer(message) ?? [])
        this.fire(alert);
  }

  private announceRules(stream: string): void {
    this.publish({ type: 'rules', stream, rules: this.streams.get(stream)!.rules.list() });
  }

  /** An alert: to the dashboards and the log (as a message), and to its rule's webhooks and OSC. */
  private fire(alert: AlertMessage): void {
    this.log(`stream ${alert.stream}: alert ${alert.ruleId} (${alert.name}): ${alert.description}`);
    this.publish(alert);
    const rule = this.streams
      .get(alert.stream)
      ?.rules.list()
      .find((r: RuleMessage) => r.id === alert.ruleId);
    if (rule) this.alerts.dispatch(rule, alert);
  }

  private setState(live: LiveStream, state: LiveStream['state'], detail?: string): void {
    live.state = state;
    live.detail = detail;
    this.log(`stream ${live.config.id}: ${state}${detail ? ` (${detail})` : ''}`);
    this.publish(streamStatus(live));
    if (state === 'stopped') {
      const grace = (this.config.limits?.endedStreamSeconds ?? 60) * 1000;
      live.removal = setTimeout(() => this.removeStream(live), grace);
      live.removal.unref();
    }
  }

  /** An ended stream leaves the list (its log stays), so ended captures do not pile up. */
  private removeStream(live: LiveStream): void {
    if (this.streams.get(live.config.id) !== live) return;
    this.streams.delete(live.config.id);
    this.metrics.forget(live.config.id);
    this.log(`stream ${live.config.id}: removed, ended`);
    this.hub?.publish({ type: 'streams', streams: [...this.streams.keys()] });
  }

  private startStream(config: StreamConfig): void {
    const { patchGrid, tokenize } = this.profile!;
    const limits = this.config.limits ?? {};
    const live = newLiveStream(config, tokenize);
    restoreStanding(live, this.events, (line) => this.log(line));
    this.streams.set(config.id, live);
    this.hub?.publish({ type: 'streams', streams: [...this.streams.keys()] });
    const source = defer(() => config.source()).pipe(
      tap(() => live.state !== 'live' && this.setState(live, 'live')),
      countDelivered(live),
      superviseSource({
        retry: config.retry !== false,
        stallSeconds: limits.stallSeconds ?? 10,
        healthySeconds: limits.healthySeconds ?? 60,
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
      this.inference!,
      live.questions,
      {
        windowSeconds: this.config.windowSeconds,
        hopSeconds: this.config.hopSeconds,
        patchGrid,
        onRejected: (segment, reason) =>
          this.publish({
            type: 'error',
            message: `stream ${config.id}: segment ${segment.index} rejected: ${reason}`,
          }),
        onSegment: (segment) => (live.frame = segment.frame),
      },
      live.counters,
    ).subscribe({
      next: (message) => this.publish(message),
      error: (error: Error) => this.setState(live, 'stopped', error.message),
      complete: () => this.setState(live, 'stopped', 'source ended'),
    });
  }

  private prune(): void {
    const days = this.config.retentionDays ?? 7;
    try {
      const pruned = this.events.prune(Date.now() - days * 86_400_000);
      if (pruned > 0) this.log(`event log: ${pruned} events older than ${days} days deleted`);
    } catch (error) {
      this.log(`event log: pruning failed, tried again in an hour: ${(error as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.alertClock);
    this.alerts.close();
    clearInterval(this.pruner);
    for (const live of this.streams.values()) live.subscription?.unsubscribe();
    await this.hub?.close();
    await this.inference?.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.historyReader.close();
    this.events.close();
    this.osc?.close();
  }
}
