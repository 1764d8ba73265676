/**
 * `GET /metrics` scraped from a live monitor and read back with an independent parser of the
 * Prometheus text format: the stream's counts, each hop's latency counted once, a failing source's
 * restarts and state, the event log's failed writes while another process holds it locked.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLock } from './support/hold-lock.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { demoStream, startLiveMonitor, type LiveMonitor } from './support/live-monitor.js';

const TOKEN = 'metrics-token';

describe('Prometheus metrics', () => {
  let live: LiveMonitor;
  let database = '';

  const scrape = async (): Promise<Map<string, ParsedFamily>> => {
    const response = await fetch(`${live.monitor.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Map(parsePrometheusTextFormat(await response.text()).map((f) => [f.name, f]));
  };
  /** The value of a counter's or gauge's sample whose labels include `labels`. */
  const value = (
    families: Map<string, ParsedFamily>,
    name: string,
    labels: Record<string, string> = {},
  ): number => {
    const family = families.get(name);
    if (!family) throw new Error(`no metric ${name}`);
    const sample = family.metrics.find((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
    );
    if (!sample) throw new Error(`no ${name} sample with ${JSON.stringify(labels)}`);
    return Number(sample.value);
  };

  beforeAll(async () => {
    database = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-metrics-')), 'events.sqlite');
    live = await startLiveMonitor(
      {
        profile: path.join(REPO_ROOT, 'models', 'tiny'),
        token: TOKEN,
        windowSeconds: 3,
        hopSeconds: 1,
        database,
        streams: [
          demoStream([
            'Is there a flute sound?',
            'How many instruments are sounding in the video?',
          ]),
          { id: 'camera', source: () => throwError(() => new Error('no such camera')) },
        ],
      },
      ['demo'],
    );
    // Four hops answered (two questions each).
    await live.waitFor(() => live.messages.filter((m) => m.type === 'answer').length >= 8, {
      timeout: 60_000,
    });
  }, 90_000);

  afterAll(() => live?.stop());

  it('needs the read token', async () => {
    expect((await fetch(`${live.monitor.url}/metrics`)).status).toBe(401);
  });

  it("reports the stream's segments, answers and deliveries, and each hop's latency once", async () => {
    const families = await scrape();
    const demo = { stream: 'demo' };
    const answers = value(families, 'tutti_answers_total', demo);
    expect(families.get('tutti_answers_total')!.type).toBe('COUNTER');
    expect(families.get('tutti_hop_latency_seconds')!.type).toBe('HISTOGRAM');
    expect(answers).toBeGreaterThanOrEqual(live.messages.filter((m) => m.type === 'answer').length);
    // Only the demo stream answers, so the parser's one bucket set is its (cumulative) buckets.
    const buckets = families.get('tutti_hop_latency_seconds')!.metrics[0]!.buckets!;
    const hops = Number(buckets['+Inf']);
    const counts = Object.entries(buckets)
      .sort(([a], [b]) => Number(a) - Number(b)) // '+Inf' → Infinity
      .map(([, count]) => Number(count));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(Number(buckets['5'])).toBe(hops); // every hop answered within 5 s
    expect(hops).toBeGreaterThanOrEqual(4);
    expect(answers).toBe(2 * hops); // two standing questions: two answers per hop

    const segments = value(families, 'tutti_segments_total', demo);
    expect(segments).toBeGreaterThanOrEqual(4);
    expect(value(families, 'tutti_audio_seconds_total', demo)).toBeGreaterThanOrEqual(segments);
    expect(value(families, 'tutti_frames_total', demo)).toBeGreaterThanOrEqual(segments);
    expect(value(families, 'tutti_source_state', { ...demo, state: 'live' })).toBe(1);
    expect(value(families, 'tutti_source_state', { ...demo, state: 'retrying' })).toBe(0);
    expect(value(families, 'tutti_websocket_clients')).toBe(1);
    expect(value(families, 'tutti_websocket_messages_sent_total')).toBeGreaterThan(answers / 2);
    // One request per segment and per hop; the worker was busy some, not all, of the time.
    const busy = value(families, 'tutti_inference_busy_seconds_total');
    expect(value(families, 'tutti_inference_requests_total')).toBeGreaterThanOrEqual(
      segments + hops,
    );
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThan(process.uptime());
    expect(value(families, 'tutti_process_resident_memory_bytes')).toBeGreaterThan(10e6);
  });

  it('has every metric the shipped Grafana dashboard queries', async () => {
    const families = await scrape();
    const dashboard = readFileSync(path.join(REPO_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8');
    const queried = new Set(
      [...dashboard.matchAll(/\btutti_[a-z_]+/g)].map(([name]) => name.replace(/_bucket$/, '')),
    );
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !families.has(name))).toEqual([]);
  });

  it("counts a failing source's restarts and shows it retrying", async () => {
    const camera = { stream: 'camera' };
    // It retries after 1 s, then 2 s…
    for (let tries = 0; tries < 100; tries++) {
      const families = await scrape();
      if (value(families, 'tutti_source_restarts_total', camera) >= 2) {
        expect(value(families, 'tutti_source_state', { ...camera, state: 'retrying' })).toBe(1);
        expect(value(families, 'tutti_segments_total', camera)).toBe(0);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the failing source was not seen restarting twice in 10 s');
  });

  it("counts the event log's failed writes while another process holds it locked", async () => {
    const before = value(await scrape(), 'tutti_event_log_write_failures_total');
    expect(before).toBe(0);
    const holder = await holdLock(database);
    try {
      for (let tries = 0; tries < 100; tries++) {
        const families = await scrape();
        if (value(families, 'tutti_event_log_write_failures_total') > 0) {
          expect(value(families, 'tutti_event_log_pending_events')).toBeGreaterThan(0);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('no failed write counted in 10 s with the log locked');
    } finally {
      holder.kill();
    }
  });
});
