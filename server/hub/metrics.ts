/**
 * `GET /metrics`: the monitor in Prometheus' text exposition format (prom-client), for Grafana
 * and alerting (docs/grafana-dashboard.json is built on these). Names follow Prometheus'
 * conventions: a `tutti_` prefix, base units (seconds), `_total` on counters. Counts the monitor
 * already keeps (segments, skips, deliveries, the hub's and the log's) are read when scraped;
 * answers and their latency are observed as they are published.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import type { InferenceUsage } from '../encoders/inference-client.js';
import type { LiveStream } from '../pipeline/live-stream.js';
import type { LogHealth } from '../storage/event-log.js';
import type { HubStats } from './ws-hub.js';

const STATES = ['starting', 'live', 'retrying', 'stopped'] as const;

/**
 * Where the scrape reads what the monitor counts anyway. A cluster gateway has no streams of its
 * own, no event log and no inference worker: their series are left out there.
 */
export interface MetricSources {
  streams(): Iterable<LiveStream>;
  hub(): HubStats | undefined;
  eventLog?(): LogHealth & { readonly failedWrites: number };
  inference?(): InferenceUsage | undefined;
  webhooks(): { readonly delivered: number; readonly failed: number; readonly dropped: number };
}

/** A counter whose value is read at scrape time from a total kept elsewhere. */
function countedFrom<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): Counter<L> {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** An unlabelled counter read at scrape time from one total kept elsewhere. */
function totalFrom(registry: Registry, name: string, help: string, read: () => number): void {
  countedFrom(registry, name, help, [], () => [[{}, read()]]);
}

export class MonitorMetrics {
  readonly registry = new Registry();
  private readonly answers: Counter<'stream'>;
  private readonly alerts: Counter<'stream'>;
  private readonly hopLatency: Histogram<'stream'>;
  /** The last hop seen per stream: a hop's answers share its audio end, latency counts once. */
  private readonly lastHop = new Map<string, number>();

  constructor(sources: MetricSources) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'tutti_' });
    this.answers = new Counter({
      name: 'tutti_answers_total',
      help: 'Answers published to standing questions.',
      labelNames: ['stream'],
      registers: [registry],
    });
    this.alerts = new Counter({
      name: 'tutti_alerts_total',
      help: 'Alerts fired by alert rules.',
      labelNames: ['stream'],
      registers: [registry],
    });
    countedFrom(
      registry,
      'tutti_webhook_deliveries_total',
      'Webhook deliveries of alerts, by outcome (delivered, failed after retries, dropped waiting).',
      ['outcome'],
      () =>
        (['delivered', 'failed', 'dropped'] as const).map(
          (outcome): [{ outcome: string }, number] => [{ outcome }, sources.webhooks()[outcome]],
        ),
    );
    this.hopLatency = new Histogram({
      name: 'tutti_hop_latency_seconds',
      help: "From the end of a hop's audio to its answers leaving the monitor.",
      labelNames: ['stream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const perStream = (value: (live: LiveStream) => number) => () =>
      [...sources.streams()].map((live): [{ stream: string }, number] => [
        { stream: live.config.id },
        value(live),
      ]);
    countedFrom(
      registry,
      'tutti_segments_total',
      'One-second segments encoded.',
      ['stream'],
      perStream((live) => live.counters.segments),
    );
    countedFrom(
      registry,
      'tutti_skipped_segments_total',
      'Segments skipped: the encoder was behind, or the segment was refused.',
      ['stream'],
      perStream((live) => live.counters.skippedSegments),
    );
    countedFrom(
      registry,
      'tutti_skipped_hops_total',
      'Hops not answered: the head was still busy, or answering failed.',
      ['stream'],
      perStream((live) => live.counters.skippedHops),
    );
    countedFrom(
      registry,
      'tutti_source_restarts_total',
      'Times the source failed or stalled and was started again.',
      ['stream'],
      perStream((live) => live.totals.restarts),
    );
    countedFrom(
      registry,
      'tutti_frames_total',
      'Video frames the source delivered.',
      ['stream'],
      perStream((live) => live.totals.frames),
    );
    countedFrom(
      registry,
      'tutti_audio_seconds_total',
      'Seconds of audio the source delivered.',
      ['stream'],
      perStream((live) => live.totals.audioSeconds),
    );
    new Gauge({
      name: 'tutti_source_state',
      help: "1 for the stream's current state (starting, live, retrying, stopped), 0 for the others.",
      labelNames: ['stream', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const live of sources.streams())
          for (const state of STATES)
            this.set({ stream: live.config.id, state }, live.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tutti_websocket_clients',
      help: 'Dashboards connected over WebSocket.',
      registers: [registry],
      collect() {
        this.set(sources.hub()?.clients ?? 0);
      },
    });
    totalFrom(
      registry,
      'tutti_websocket_messages_sent_total',
      'Messages sent to dashboards.',
      () => sources.hub()?.sent ?? 0,
    );
    totalFrom(
      registry,
      'tutti_websocket_messages_dropped_total',
      'Messages dropped for dashboards that fell behind.',
      () => sources.hub()?.dropped ?? 0,
    );
    totalFrom(
      registry,
      'tutti_websocket_rejected_total',
      'WebSocket connections refused (token, origin, host).',
      () => sources.hub()?.rejected ?? 0,
    );
    const { eventLog, inference } = sources;
    if (eventLog) {
      totalFrom(
        registry,
        'tutti_event_log_write_failures_total',
        'Event log writes that failed.',
        () => eventLog().failedWrites,
      );
      totalFrom(
        registry,
        'tutti_event_log_dropped_events_total',
        'Events dropped because too many waited for a failing log.',
        () => eventLog().dropped,
      );
      new Gauge({
        name: 'tutti_event_log_pending_events',
        help: 'Events waiting to be written to the event log.',
        registers: [registry],
        collect() {
          this.set(eventLog().pending);
        },
      });
    }
    if (inference) {
      totalFrom(
        registry,
        'tutti_inference_busy_seconds_total',
        'Time the inference worker spent on requests.',
        () => inference()?.busySeconds ?? 0,
      );
      totalFrom(
        registry,
        'tutti_inference_requests_total',
        'Requests the inference worker answered or failed.',
        () => inference()?.requests ?? 0,
      );
      totalFrom(
        registry,
        'tutti_inference_worker_restarts_total',
        'Times the inference worker died or hung and was started again.',
        () => inference()?.restarts ?? 0,
      );
    }
  }

  /** Sees every published message; counts answers and each hop's latency once. */
  observe(message: ServerMessage): void {
    if (message.type === 'alert') this.alerts.inc({ stream: message.stream });
    if (message.type !== 'answer') return;
    this.answers.inc({ stream: message.stream });
    if (this.lastHop.get(message.stream) === message.audioEndedAt) return;
    this.lastHop.set(message.stream, message.audioEndedAt);
    this.hopLatency.observe({ stream: message.stream }, message.latencyMs / 1000);
  }

  /** A removed stream's series go (Prometheus sees its counters end). */
  forget(stream: string): void {
    this.answers.remove({ stream });
    this.alerts.remove({ stream });
    this.hopLatency.remove({ stream });
    this.lastHop.delete(stream);
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
