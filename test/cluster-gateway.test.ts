/**
 * The gateway role (issue #13) as processes on a real nats-server: one `--role ingest,inference`
 * process answering a demo stream, and two `--role gateway` processes. A dashboard on either
 * gateway sees every hop of the stream once; a question added through one gateway is stored in
 * the cluster, shown on the other and answered; a recording started through gateway B is
 * ingested there, and a dashboard on gateway A sees it, asks about it and gets answers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { connectDashboard, type Dashboard } from './support/dashboard-socket.js';
import { freePort } from './support/free-port.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { NatsServer } from './support/nats-server.js';
import { RoleProcesses } from './support/role-processes.js';
import { until } from './support/until.js';

const TOKEN = 'gateway-test-token';

const answersOf = (d: Dashboard, stream: string, questionId?: string) =>
  d.messages.filter(
    (m): m is Extract<ServerMessage, { type: 'answer' }> =>
      m.type === 'answer' &&
      m.stream === stream &&
      (questionId === undefined || m.questionId === questionId),
  );

describe('gateways on a cluster', () => {
  let server: NatsServer;
  const processes = new RoleProcesses(() => ({
    TUTTI_NATS_URL: server.url,
    TUTTI_WINDOW: '4',
    TUTTI_TOKEN: TOKEN,
  }));
  const gateways: Record<'a' | 'b', string> = { a: '', b: '' };
  const dashboards: Dashboard[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    const venue = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-gateway-')), 'venue.json');
    writeFileSync(
      venue,
      JSON.stringify({
        streams: [
          {
            id: 'stage-a',
            source: { demo: true },
            questions: ['Is there a flute sound?'],
            rules: [{ name: 'quiet', condition: { kind: 'stream-not-live', seconds: 30 } }],
          },
        ],
      }),
    );
    processes.start('worker', 'ingest,inference', ['--config', venue]);
    for (const name of ['a', 'b'] as const) {
      const port = await freePort();
      processes.start(`gateway-${name}`, 'gateway', [], { TUTTI_PORT: String(port) });
      gateways[name] = `http://127.0.0.1:${port}`;
    }
    await until(
      () =>
        processes.linesOf('worker', 'answering on').length === 1 &&
        ['gateway-a', 'gateway-b'].every((g) => processes.linesOf(g, 'dashboard:').length === 1),
      'worker and gateways ready',
      90_000,
    );
  }, 120_000);
  afterAll(async () => {
    for (const d of dashboards) d.close();
    await processes.stopAll();
    await server?.stop();
  });

  it('shows every hop once on either gateway, and a question added through one on both', async () => {
    const [onA, onB] = await Promise.all([
      connectDashboard(gateways.a, TOKEN),
      connectDashboard(gateways.b, TOKEN),
    ]);
    dashboards.push(onA, onB);
    await until(() => onA.messages.length > 0 && onB.messages.length > 0, 'greetings', 5000);
    for (const d of [onA, onB]) {
      expect(d.messages[0]).toEqual({ type: 'streams', streams: ['stage-a'] });
      d.send({ type: 'subscribe', stream: 'stage-a' });
    }
    await until(
      () => [onA, onB].every((d) => answersOf(d, 'stage-a').length >= 4),
      'answers on both gateways',
      60_000,
    );
    // The venue file's rule, stored by the ingest node, in the snapshot of either gateway.
    for (const d of [onA, onB])
      expect(d.messages.find((m) => m.type === 'rules')).toMatchObject({
        stream: 'stage-a',
        rules: [{ id: 'r1', name: 'quiet' }],
      });
    const ends = (d: Dashboard) => answersOf(d, 'stage-a').map((m) => m.window.end);
    for (const d of [onA, onB]) expect(new Set(ends(d)).size, 'a hop twice').toBe(ends(d).length);
    // The hops both saw while both were connected are the same hops.
    const common = ends(onA).filter((end) => end >= Math.max(ends(onA)[0]!, ends(onB)[0]!));
    expect(ends(onB)).toEqual(expect.arrayContaining(common.slice(0, -1)));

    // Through gateway B, over HTTP: stored in the cluster, shown on A, answered by the worker.
    const response = await fetch(`${gateways.b}/api/streams/stage-a/questions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'How many instruments are sounding in the video?' }),
    });
    expect(response.status).toBe(201);
    const added = (await response.json()) as { id: string };
    await until(
      () =>
        onA.messages.some(
          (m) =>
            m.type === 'questions' &&
            m.stream === 'stage-a' &&
            m.questions.some((q) => q.id === added.id),
        ),
      'the new question on gateway A',
      10_000,
    );
    await until(
      () => answersOf(onA, 'stage-a', added.id).length >= 2,
      'answers to the new question',
      30_000,
    );
    // The history, from the answer log: the newest answers first, as the dashboard asks for them.
    const history = await fetch(
      `${gateways.a}/api/streams/stage-a/history?type=answer&order=desc&limit=3`,
      { headers: { authorization: `Bearer ${TOKEN}` } },
    );
    expect(history.status).toBe(200);
    const { events, next } = (await history.json()) as {
      events: Array<{ message: { type: string; window: { end: number } } }>;
      next?: string;
    };
    expect(events.map((e) => e.message.type)).toEqual(['answer', 'answer', 'answer']);
    const newestFirst = events.map((e) => e.message.window.end);
    expect(newestFirst).toEqual([...newestFirst].sort((x, y) => y - x));
    expect(next).toMatch(/^\d+:\d+$/);
    // Metrics of every stream, from the bus (no event log or inference worker on a gateway).
    const metrics = await (
      await fetch(`${gateways.a}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(
      Number(/^tutti_answers_total\{stream="stage-a"\} (\d+)$/m.exec(metrics)?.[1]),
    ).toBeGreaterThan(0);
    expect(metrics).toMatch(/^tutti_hop_latency_seconds_count\{stream="stage-a"\} [1-9]/m);
    expect(metrics).not.toMatch(/tutti_event_log|tutti_inference/);
    // An alert rule through gateway A: stored in the cluster, fired once (by the gateway that
    // holds the alerts lease), seen on both gateways.
    const rule = await fetch(`${gateways.a}/api/streams/stage-a/rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'unsure',
        questionId: added.id,
        condition: { kind: 'confidence-below', confidence: 1, seconds: 1 },
        cooldownSeconds: 3600,
      }),
    });
    expect(rule.status).toBe(201);
    const { id: ruleId } = (await rule.json()) as { id: string };
    const alerts = (d: Dashboard) =>
      d.messages.filter((m) => m.type === 'alert' && m.ruleId === ruleId);
    await until(
      () => [onA, onB].every((d) => alerts(d).length === 1),
      'the alert on both gateways',
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 4000));
    for (const d of [onA, onB]) expect(alerts(d), 'fired once').toHaveLength(1);
    expect(
      onB.messages.some(
        (m) => m.type === 'rules' && m.stream === 'stage-a' && m.rules.some((r) => r.id === ruleId),
      ),
    ).toBe(true);
    const firing = ['gateway-a', 'gateway-b'].filter(
      (g) => processes.linesOf(g, ": fires the cluster's alerts").length > 0,
    );
    expect(firing).toHaveLength(1);
  }, 120_000);

  it('lets a dashboard on gateway A follow a recording started through gateway B', async () => {
    const [onA, onB] = await Promise.all([
      connectDashboard(gateways.a, TOKEN),
      connectDashboard(gateways.b, TOKEN),
    ]);
    dashboards.push(onA, onB);
    onB.send({ type: 'capture-start', stream: 'take', token: TOKEN, recording: { speed: 1 } });
    await until(
      () => onB.messages.some((m) => m.type === 'questions' && m.stream === 'take'),
      'the capture started on B',
      10_000,
    );
    // The demo clip, as a browser would send a local recording: in chunks.
    const clip = readFileSync(path.join(REPO_ROOT, 'server/sources/demo/demo.mp4'));
    for (let at = 0; at < clip.length; at += 64 * 1024)
      onB.sendMedia(clip.subarray(at, at + 64 * 1024));
    await until(
      () => onA.messages.some((m) => m.type === 'streams' && m.streams.includes('take')),
      'the capture listed on A',
      10_000,
    );
    onA.send({
      type: 'add-question',
      stream: 'take',
      question: 'Is there a flute sound?',
      token: TOKEN,
    });
    onA.send({ type: 'subscribe', stream: 'take' });
    await until(() => answersOf(onA, 'take').length >= 2, 'answers about the capture on A', 60_000);
    expect(processes.linesOf('gateway-b', 'cannot')).toEqual([]);
  }, 120_000);

  it('keeps which streams run where on the bus: a restarted ingest node takes up its own', async () => {
    const worker = processes.children.get('worker')!;
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    // The same node name, no venue file: its streams come from the stream directory.
    processes.start('worker', 'ingest,inference');
    await until(
      () => processes.linesOf('worker', 'ingesting stage-a').length === 2,
      'the worker back',
      60_000,
    );
    expect(processes.linesOf('worker', 'taking up the streams it ran before')).toHaveLength(1);
    const onA = await connectDashboard(gateways.a, TOKEN);
    dashboards.push(onA);
    await until(() => onA.messages.length > 0, 'greeting', 5000);
    expect(onA.messages[0]).toMatchObject({ streams: expect.arrayContaining(['stage-a', 'take']) });
    onA.send({ type: 'subscribe', stream: 'stage-a' });
    await until(() => answersOf(onA, 'stage-a').length >= 2, 'answers after the restart', 60_000);
  }, 120_000);
});
