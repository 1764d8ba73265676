/**
 * The monitor end to end: real media through ffmpeg, the TypeScript front-end, the shipped tiny
 * profile in its worker thread, standing questions over HTTP and WebSocket, answers pushed to a
 * real WebSocket client and validated against the shared protocol.
 */
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Monitor, type MonitorConfig } from '../server/monitor.js';
import { EventLog } from '../server/storage/event-log.js';
import { mediaFileSource } from '../server/sources/media-file-source.js';
import { ANSWER_KINDS, parseQuestion } from '../shared/question-space/index.js';
import {
  serverMessageSchema,
  type AnswerMessage,
  type ServerMessage,
} from '../shared/protocol/messages.js';
import { healthResponseSchema } from '../shared/protocol/health.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { runCli } from './support/run-cli.js';
import { demoStream } from './support/live-monitor.js';

const TOKEN = 'test-token';
const READ_TOKEN = 'read-only-token';
const READ = { headers: { authorization: `Bearer ${READ_TOKEN}` } };

describe('monitor', () => {
  let monitor: Monitor;
  let config: MonitorConfig;
  let database = '';
  const messages: ServerMessage[] = [];
  let socket: WebSocket;
  const logs: string[] = [];

  const waitFor = async <T extends ServerMessage>(
    predicate: (m: ServerMessage) => boolean,
    timeout = 20_000,
  ): Promise<T> => {
    const started = Date.now();
    for (;;) {
      const found = messages.find(predicate);
      if (found) return found as T;
      if (Date.now() - started > timeout)
        throw new Error(
          `timed out; last: ${JSON.stringify(messages.slice(-2)).slice(0, 500)}; logs: ${logs.join(' | ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    const synth = mkdtempSync(path.join(tmpdir(), 'tutti-monitor-'));
    database = path.join(synth, 'events.sqlite');
    await runCli('synth', ['--scenes', '1', '--seconds', '8', '--seed', '21', '--out', synth]);
    config = {
      profile: path.join(REPO_ROOT, 'models', 'tiny'),
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      readToken: READ_TOKEN,
      windowSeconds: 10,
      hopSeconds: 1,
      database: path.join(synth, 'events.sqlite'),
      log: (line) => logs.push(line),
      streams: [
        demoStream(['How many instruments are sounding in the video?']),
        // A FluidSynth-rendered scene, played once.
        {
          id: 'scene',
          source: () =>
            mediaFileSource(path.join(synth, 'videos', '00000001.mp4'), { realtime: true }),
          questions: ['Is there a flute sound?'],
        },
        { id: 'broken', source: () => mediaFileSource('/nonexistent/camera.mp4') },
      ],
    };
    monitor = new Monitor(config);
    await monitor.start();
    socket = new WebSocket(`${monitor.url.replace('http', 'ws')}/ws`, READ);
    socket.on('message', (data) =>
      messages.push(serverMessageSchema.parse(JSON.parse(data.toString()))),
    );
    await new Promise((resolve) => socket.once('open', resolve));
    for (const stream of ['demo', 'scene', 'broken'])
      socket.send(JSON.stringify({ type: 'subscribe', stream }));
  }, 60_000);

  afterAll(async () => {
    socket?.close();
    await monitor?.stop();
  });

  it('pushes answers with their evidence for the demo stream', async () => {
    const answer = await waitFor<AnswerMessage>((m) => m.type === 'answer' && m.stream === 'demo');
    expect(ANSWER_KINDS.count).toContain(answer.answer);
    expect(answer.confidence).toBeGreaterThan(0);
    expect(answer.confidence).toBeLessThanOrEqual(1);
    expect(answer.alternatives).toHaveLength(3);
    const segments = answer.window.end - answer.window.start;
    expect(segments).toBeGreaterThanOrEqual(1);
    expect(answer.attention.temporal).toHaveLength(segments);
    expect(answer.attention.spatial).toHaveLength(segments);
    expect(answer.attention.spatial[0]).toHaveLength(8);
    expect(answer.attention.patchGrid).toEqual([1, 8]);
    expect(answer.attention.frequency).toHaveLength(8);
    // Weights travel rounded to 4 decimals: their sum is 1 within 1e-4 per segment.
    expect(answer.attention.temporal.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    for (const weight of answer.attention.spatial.flat())
      expect(Math.round(weight * 1e4) / 1e4).toBe(weight);
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    expect(answer.latencyMs).toBeLessThan(5000);
  }, 30_000);

  it('shows what it sees and hears: the latest frame as JPEG, each segment as a spectrogram', async () => {
    const segment = await waitFor((m) => m.type === 'segment' && m.stream === 'demo');
    expect(segment.type === 'segment' && segment.spectrogram[0]).toHaveLength(64);
    const frame = await fetch(`${monitor.url}/api/streams/demo/frame.jpg`, READ);
    expect(frame.status).toBe(200);
    expect(frame.headers.get('content-type')).toBe('image/jpeg');
    const bytes = new Uint8Array(await frame.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]); // JPEG start-of-image
    expect((await fetch(`${monitor.url}/api/streams/nowhere/frame.jpg`, READ)).status).toBe(404);
  }, 30_000);

  it('answers a FluidSynth scene read through ffmpeg', async () => {
    const answer = await waitFor<AnswerMessage>((m) => m.type === 'answer' && m.stream === 'scene');
    expect(answer.sentence).toBe('Is there a flute sound?');
    expect(['yes', 'no']).toContain(answer.answer);
  }, 30_000);

  it('adds standing questions over HTTP and WebSocket, with the token, and answers them', async () => {
    const url = `${monitor.url}/api/streams/demo/questions`;
    const denied = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ question: 'Is there a piano sound?' }),
    });
    expect(denied.status).toBe(401);
    const unknown = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ question: 'Is the piano quieter than the flute?' }),
    });
    expect(unknown.status).toBe(422);
    expect(
      ((await unknown.json()) as { nearest: Array<{ templateId: string }> }).nearest[0]!.templateId,
    ).toBe('audio-louder');
    const added = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        question: 'Is the clarinet on the right louder than the flute on the left?',
      }),
    });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };
    const answer = await waitFor<AnswerMessage>((m) => m.type === 'answer' && m.questionId === id);
    expect(['yes', 'no']).toContain(answer.answer);
    expect(answer.questionType).toBe('Audio-Visual/Comparative');

    socket.send(
      JSON.stringify({
        type: 'add-question',
        stream: 'demo',
        question: 'What is the first instrument that comes in?',
        token: TOKEN,
        readToken: READ_TOKEN,
      }),
    );
    const sentence = parseQuestion('What is the first instrument that comes in?').sentence;
    const viaSocket = await waitFor<AnswerMessage>(
      (m) => m.type === 'answer' && m.sentence === sentence,
    );
    expect(ANSWER_KINDS.instrument).toContain(viaSocket.answer);

    const listed = (await (await fetch(url, READ)).json()) as { questions: Array<{ id: string }> };
    expect(listed.questions).toHaveLength(3);
    const remove = async () =>
      (
        await fetch(`${url}/${id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).status;
    expect(await remove()).toBe(200);
    expect(await remove()).toBe(404);
  }, 40_000);

  it('reports a source that cannot be opened, and keeps retrying it', async () => {
    const status = await waitFor(
      (m) => m.type === 'stream-status' && m.stream === 'broken' && m.state === 'retrying',
    );
    expect((status as { detail?: string }).detail).toMatch(
      /\/nonexistent\/camera\.mp4.*retrying in \d+ s/,
    );
  }, 30_000);

  it('logs every answer and stream event to SQLite, queryable by stream and time, kept after a restart', async () => {
    await waitFor((m) => m.type === 'answer' && m.stream === 'demo');
    const since = Date.now() - 60_000;
    const response = await fetch(
      `${monitor.url}/api/streams/demo/history?type=answer&from=${since}&limit=5`,
      READ,
    );
    const { events } = (await response.json()) as {
      events: Array<{ stream: string; at: number; message: AnswerMessage }>;
    };
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(5);
    for (const event of events) {
      expect(event.stream).toBe('demo');
      expect(event.at).toBeGreaterThanOrEqual(since);
      expect(serverMessageSchema.parse(event.message).type).toBe('answer');
    }
    // Answer changes are events of their own, logged too: the demo's first answer is one.
    const changes = await fetch(
      `${monitor.url}/api/streams/demo/history?type=answer-change&from=${since}`,
      READ,
    ).then((r) => r.json() as Promise<{ events: Array<{ message: unknown }> }>);
    expect(changes.events.length).toBeGreaterThan(0);
    const first = serverMessageSchema.parse(changes.events[0]!.message);
    expect(first).toMatchObject({ type: 'answer-change', stream: 'demo', from: null });
    expect((await fetch(`${monitor.url}/api/streams/demo/history?limit=zero`, READ)).status).toBe(
      400,
    );
    expect((await fetch(`${monitor.url}/api/streams/nowhere/history`, READ)).status).toBe(404);
    // Another process opening the same file sees what was logged.
    const reopened = new EventLog(database);
    const kept = reopened.history({ stream: 'broken', type: 'stream-status' });
    reopened.close();
    expect(
      kept.some((e) => e.message.type === 'stream-status' && e.message.state === 'retrying'),
    ).toBe(true);
  }, 30_000);

  it('shows nothing to a stranger: reading needs a token, the Host must be its own', async () => {
    const reads = ['frame.jpg', 'history', 'questions'].map((r) => `/api/streams/demo/${r}`);
    for (const route of [...reads, '/api/streams']) {
      expect((await fetch(`${monitor.url}${route}`)).status).toBe(401);
      const wrong = { headers: { authorization: 'Bearer guess' } };
      expect((await fetch(`${monitor.url}${route}`, wrong)).status).toBe(401);
    }
    // The read-only token reads, and may not control.
    expect((await fetch(`${monitor.url}/api/streams`, READ)).status).toBe(200);
    const control = await fetch(`${monitor.url}/api/streams/demo/questions`, {
      method: 'POST',
      ...READ,
      body: JSON.stringify({ question: 'Is there a piano sound?' }),
    });
    expect(control.status).toBe(401);
    // Health says how it is to anyone (probes), why only to readers.
    const open = healthResponseSchema.parse(
      await (await fetch(`${monitor.url}/api/health`)).json(),
    );
    expect(open.reasons).toEqual([]);
    const detailed = await fetch(`${monitor.url}/api/health`, READ).then((r) => r.json());
    expect(healthResponseSchema.parse(detailed).reasons.join()).toMatch(/stream broken/);
    // DNS rebinding: a foreign name in Host is refused, token or not.
    const { port } = new URL(monitor.url);
    const status = await new Promise<number>((resolve, reject) =>
      request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/streams',
          headers: { host: 'evil.example', ...READ.headers },
        },
        (response) => resolve(response.statusCode ?? 0),
      )
        .on('error', reject)
        .end(),
    );
    expect(status).toBe(421);
  });

  it('stands at the same questions after a restart, under the same ids', async () => {
    const added = await fetch(`${monitor.url}/api/streams/scene/questions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'Is the piano louder than the clarinet?' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const before = await fetch(`${monitor.url}/api/streams/scene/questions`, READ).then((r) =>
      r.json(),
    );
    await monitor.stop();
    monitor = new Monitor({ ...config, log: (line) => logs.push(line) });
    await monitor.start();
    const after = await fetch(`${monitor.url}/api/streams/scene/questions`, READ).then((r) =>
      r.json(),
    );
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).toContain(added.id);
    expect(logs).toContain('tutti: stream scene: 2 standing questions restored');
  }, 30_000);
});
