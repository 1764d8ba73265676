/**
 * The monitor: HTTP and WebSocket on one port, one inference worker, the event log, and per stream
 * its standing questions and pipeline. A source that fails or stalls is reported and restarted
 * with backoff; a failing log or worker is reported while answering goes on (README: Reliability).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { InferencePool, threadsSaid, type Inference } from './encoders/inference-pool.js';
import { questionTokenizer, readManifest } from './encoders/model-manifest.js';
import { AccessPolicy } from './hub/access.js';
import { createHttpServer } from './hub/http-server.js';
import type { StreamControl } from './hub/stream-control.js';
import { WsHub } from './hub/ws-hub.js';
import { EventLog } from './storage/event-log.js';
import { HistoryReader } from './storage/history-reader.js';
import { streamStatus, type StreamConfig } from './pipeline/live-stream.js';
import { StreamRegistry, type StreamLimits } from './pipeline/stream-registry.js';
import { monitorHealth } from './hub/monitor-health.js';
import { MonitorMetrics } from './hub/metrics.js';
import { OscOutput, type OscTarget } from './outputs/osc-output.js';
import { AlertDispatcher } from './alerts/alert-dispatcher.js';
import type { AlertMessage, RuleMessage } from '../shared/protocol/rules.js';

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
  /** Inference worker threads sharing the streams (default 1; more feed a GPU: README, "GPU"). */
  readonly inferenceWorkers?: number;
  /** Where answers and answer changes are sent as Open Sound Control. */
  readonly osc?: readonly OscTarget[];
  /** Signs webhook deliveries of alerts (HMAC-SHA256); unsigned without. */
  readonly webhookSecret?: string;
}

export interface MonitorLimits extends StreamLimits {
  /** An inference request unanswered this long restarts the worker (default 30 s). */
  readonly hungWorkerSeconds?: number;
}

export class Monitor {
  /** The live streams, once the model is loaded (start). */
  private registry?: StreamRegistry;
  private hub?: WsHub;
  private inference?: Inference;
  private readonly control: StreamControl;
  private readonly events: EventLog;
  private readonly historyReader: HistoryReader;
  private heartbeat?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
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
        for (const live of this.liveStreams())
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
      streams: () => this.liveStreams(),
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

  private liveStreams() {
    return this.registry?.streams.values() ?? [].values();
  }

  async start(): Promise<void> {
    // First: a malformed target stops the start with its reason.
    this.osc = new OscOutput(this.config.osc ?? [], (line) => this.log(line));
    const manifest = readManifest(this.config.profile);
    const workers = this.config.inferenceWorkers ?? 1;
    const inference = await InferencePool.start(
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
      workers,
    );
    this.inference = inference;
    const sharing = [...(workers > 1 ? [`${workers} workers`] : []), ...threadsSaid(inference)];
    this.log(
      `model profile ${manifest.profile} (${this.config.variant ?? 'full'}) on ${inference.provider}${sharing.length ? ` (${sharing.join(', ')})` : ''}; audio front-end: ${inference.audioFrontend}; pictures: ${inference.picturesFrontend}`,
    );
    this.registry = new StreamRegistry({
      inference,
      patchGrid: manifest.patchGrid,
      tokenize: questionTokenizer(manifest),
      windowSeconds: this.config.windowSeconds,
      hopSeconds: this.config.hopSeconds,
      limits: this.config.limits ?? {},
      events: this.events,
      publish: (message) => this.publish(message),
      listChanged: (streams) => this.hub?.publish({ type: 'streams', streams }),
      removed: (stream) => this.metrics.forget(stream),
      log: (line) => this.log(line),
    });
    // Listening first: the hub would re-emit a busy port as an unhandled 'error'.
    this.http.listen(this.config.port, this.config.host);
    await once(this.http, 'listening').catch((error: NodeJS.ErrnoException) => {
      void inference.close();
      throw error.code === 'EADDRINUSE'
        ? new Error(
            `port ${this.config.port} on ${this.config.host} is in use; set TUTTI_PORT to a free port`,
          )
        : error;
    });
    this.hub = new WsHub(this.http, this.control, { access: this.access });
    const address = this.http.address() as AddressInfo;
    this.url = `http://${address.address}:${address.port}`;
    for (const stream of this.config.streams) this.registry.start(stream);
    // Every answer is logged (about 1.5 KB with its attention maps): keep a bounded history.
    this.prune();
    this.pruner = setInterval(() => this.prune(), 3_600_000);
    // Health every few seconds: segments done and hops skipped, as they change (not for
    // streams that ended: nothing changes there).
    this.heartbeat = setInterval(() => {
      for (const live of this.liveStreams())
        if (live.state !== 'stopped') this.publish(streamStatus(live, true));
    }, 5000);
    // Each second, rules on the sources' state (a source that is not live).
    this.alertClock = setInterval(() => {
      for (const live of this.liveStreams())
        for (const alert of live.rules.observeState(live.state === 'live', Date.now()))
          this.fire(alert);
    }, 1000);
  }

  /** What the HTTP routes and the WebSocket hub may ask and change. */
  private controls(): StreamControl {
    const streams = () => this.registry!;
    return {
      listStreams: () => this.registry?.ids() ?? [],
      hasStream: (stream) => this.registry?.streams.has(stream) ?? false,
      startCapture: (stream, recording) => streams().startCapture(stream, recording),
      latestFrame: (stream) => this.registry?.streams.get(stream)?.frame,
      listQuestions: (stream) => streams().streams.get(stream)!.questions.describe(),
      addQuestion: (stream, question, values) => streams().addQuestion(stream, question, values),
      removeQuestion: (stream, id) => streams().removeQuestion(stream, id),
      listRules: (stream) => streams().streams.get(stream)!.rules.list(),
      addRule: (stream, rule) => streams().addRule(stream, rule),
      removeRule: (stream, id) => streams().removeRule(stream, id),
      snapshot: (stream) => streams().snapshot(stream),
      history: (query) => {
        if (this.config.database === ':memory:')
          return Promise.resolve(this.events.historyBody(query));
        this.events.flush(); // what waits in the buffer is history too
        return this.historyReader.page(query);
      },
      health: () =>
        monitorHealth(this.events.health(), this.inference?.status(), this.liveStreams()),
    };
  }

  /** To the dashboards, and into the event log; an answer is checked against the alert rules. */
  private publish(message: ServerMessage): void {
    this.metrics.observe(message);
    this.osc?.send(message);
    this.events.record(message);
    this.hub?.publish(message);
    if (message.type === 'answer')
      for (const alert of this.registry?.streams
        .get(message.stream)
        ?.rules.observeAnswer(message) ?? [])
        this.fire(alert);
  }

  /** An alert: to the dashboards and the log (as a message), and to its rule's webhooks and OSC. */
  private fire(alert: AlertMessage): void {
    this.log(`stream ${alert.stream}: alert ${alert.ruleId} (${alert.name}): ${alert.description}`);
    this.publish(alert);
    const rule = this.registry?.streams
      .get(alert.stream)
      ?.rules.list()
      .find((r: RuleMessage) => r.id === alert.ruleId);
    if (rule) this.alerts.dispatch(rule, alert);
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
    this.registry?.stopAll();
    await this.hub?.close();
    await this.inference?.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.historyReader.close();
    this.events.close();
    this.osc?.close();
  }
}
