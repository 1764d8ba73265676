import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WsHub, type StreamControl } from '../server/hub/ws-hub.js';
import { AccessPolicy } from '../server/hub/access.js';
import { serverMessageSchema, type ServerMessage } from '../shared/protocol/messages.js';
import { parseQuestion } from '../shared/question-space/index.js';

interface Capture {
  readonly stream: string;
  readonly recording?: { speed: number };
  readonly sink: PassThrough;
}

/** `captures`: when set, captures start into slow sinks (16 KiB, read only when the test says). */
function control(captures?: Capture[]): StreamControl & { added: string[] } {
  const added: string[] = [];
  return {
    added,
    listStreams: () => ['stage'],
    latestFrame: () => undefined,
    startCapture: (stream, recording) => {
      if (!captures) throw new Error('no captures here');
      const sink = new PassThrough({ highWaterMark: 16 * 1024 });
      sink.pause();
      captures.push({ stream, ...(recording ? { recording } : {}), sink });
      return sink;
    },
    hasStream: (stream) => stream === 'stage',
    listQuestions: () => [],
    history: () => Promise.resolve('{"events":[]}'),
    health: () => ({ status: 'ok', reasons: [], uptimeSeconds: 0 }),
    addQuestion: (_stream, question, values) => {
      const parsed = parseQuestion(question, values);
      added.push(parsed.sentence);
      return {
        id: 'q1',
        templateId: parsed.template.id,
        sentence: parsed.sentence,
        type: parsed.type,
      };
    },
    removeQuestion: () => false,
    listRules: () => [],
    addRule: () => {
      throw new Error('no rules here');
    },
    removeRule: () => false,
    snapshot: (stream) => [{ type: 'questions', stream, questions: [] }],
  };
}

async function hubWith(
  options: { queueLimit?: number; backlogBytes?: number } = {},
  captures?: Capture[],
) {
  const http = createServer();
  const ctl = control(captures);
  const access = new AccessPolicy({ controlToken: 'secret', readToken: 'reader' });
  const hub = new WsHub(http, ctl, { access, ...options });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
  const close = async () => {
    await hub.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return { hub, ctl, url, close };
}

/** A client that records every message, validated against the protocol. */
async function client(url: string, token = 'reader') {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const messages: ServerMessage[] = [];
  socket.on('message', (data) =>
    messages.push(serverMessageSchema.parse(JSON.parse(data.toString()))),
  );
  await once(socket, 'open');
  const next = async (predicate: (m: ServerMessage) => boolean, timeout = 3000) => {
    const started = Date.now();
    for (;;) {
      const found = messages.find(predicate);
      if (found) return found;
      if (Date.now() - started > timeout)
        throw new Error(`no such message; got ${JSON.stringify(messages.slice(-3))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    socket,
    messages,
    next,
    send: (m: unknown) => socket.send(typeof m === 'string' ? m : JSON.stringify(m)),
  };
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanup.map((close) => close()));
  cleanup = [];
});

describe('WebSocket hub', () => {
  it('lets only readers in: the token as a header or subprotocol, from its own origin and host', async () => {
    const { url, close } = await hubWith();
    cleanup.push(close);
    // No token, or a wrong one: upgraded, then closed with a reason a dashboard can show.
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      const refused = new WebSocket(url, { headers });
      const [code, reason] = (await once(refused, 'close')) as [number, Buffer];
      expect([code, reason.toString()]).toEqual([4401, 'reading needs the access token']);
    }
    // A browser's way: the token as a subprotocol, from the monitor's own page.
    const port = new URL(url).port;
    const browser = new WebSocket(
      url,
      ['tutti', `tutti-token.${Buffer.from('reader').toString('base64url')}`],
      { origin: `http://127.0.0.1:${port}` },
    );
    await once(browser, 'open');
    expect(browser.protocol).toBe('tutti');
    browser.close();
    // A page elsewhere, or a rebound DNS name: refused before the upgrade.
    for (const options of [
      { origin: 'http://evil.example', headers: { authorization: 'Bearer reader' } },
      { headers: { host: 'evil.example', authorization: 'Bearer reader' } },
    ]) {
      const foreign = new WebSocket(url, options);
      const [error] = (await once(foreign, 'error')) as [Error];
      expect(error.message).toMatch(/Unexpected server response: 401/);
    }
  });

  it('refuses malformed, unknown and unauthorised messages with a reason', async () => {
    const { url, ctl, close } = await hubWith();
    cleanup.push(close);
    const c = await client(url);
    c.send('{not json');
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'message is not JSON',
    });
    c.messages.length = 0;
    c.send({ type: 'subscribe', stream: 'bad stream id!' });
    expect(((await c.next((m) => m.type === 'error')) as { message: string }).message).toMatch(
      /invalid message: stream: stream ids are/,
    );
    c.messages.length = 0;
    c.send({ type: 'subscribe', stream: 'elsewhere' });
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'no stream "elsewhere"',
    });
    c.messages.length = 0;
    c.send({
      type: 'add-question',
      stream: 'stage',
      question: 'Is there a flute sound?',
      token: 'guess',
    });
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'control messages need the access token',
    });
    c.messages.length = 0;
    c.send({
      type: 'add-question',
      stream: 'stage',
      question: 'Is the flute quieter than the cello?',
      token: 'secret',
    });
    const unknown = (await c.next((m) => m.type === 'error')) as {
      nearest?: Array<{ templateId: string }>;
    };
    expect(unknown.nearest?.[0]?.templateId).toBe('audio-louder');
    c.send({
      type: 'add-question',
      stream: 'stage',
      question: 'Is there a flute sound?',
      token: 'secret',
    });
    await expect.poll(() => ctl.added).toEqual(['Is there a flute sound?']);
    c.messages.length = 0;
    c.socket.send(Buffer.from([1, 2, 3]));
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'binary messages are media for a capture: send capture-start first',
    });
    c.messages.length = 0;
    c.send({ type: 'capture-start', stream: 'camera', token: 'guess' });
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'control messages need the access token',
    });
    c.messages.length = 0;
    c.send({ type: 'capture-start', stream: 'camera', token: 'secret' });
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'no captures here',
    });
    // Oversized messages close the connection (ws enforces maxPayload).
    c.send(JSON.stringify({ type: 'subscribe', stream: 'stage', pad: 'x'.repeat(70_000) }));
    await once(c.socket, 'close');
  });

  it('takes a recording no faster than it is consumed, ends it on capture-end, and says when its stream stopped', async () => {
    const captures: Capture[] = [];
    const { url, close } = await hubWith({}, captures);
    cleanup.push(close);
    const c = await client(url);
    c.send({
      type: 'capture-start',
      stream: 'file-take',
      token: 'secret',
      recording: { speed: 2 },
    });
    await c.next((m) => m.type === 'questions' && m.stream === 'file-take');
    expect(captures.map(({ stream, recording }) => ({ stream, recording }))).toEqual([
      { stream: 'file-take', recording: { speed: 2 } },
    ]);
    const { sink } = captures[0]!;
    // 1 MiB sent at once into a sink nobody reads: the hub stops reading the socket, so a text
    // message sent after the media waits too, and the sink holds little more than its limit.
    for (let i = 0; i < 16; i++) c.socket.send(Buffer.alloc(64 * 1024, i));
    c.send({ type: 'subscribe', stream: 'stage' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(c.messages.some((m) => m.type === 'questions' && m.stream === 'stage')).toBe(false);
    expect(sink.readableLength).toBeLessThanOrEqual(2 * 64 * 1024);
    // Consuming it lets everything through, in order, and capture-end ends it.
    const received: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => received.push(chunk));
    sink.resume();
    await c.next((m) => m.type === 'questions' && m.stream === 'stage');
    c.send({ type: 'capture-end', stream: 'file-take' });
    await once(sink, 'end');
    const bytes = Buffer.concat(received);
    expect(bytes.length).toBe(16 * 64 * 1024);
    expect([...Array(16).keys()].every((i) => bytes[i * 64 * 1024] === i)).toBe(true);

    // A second capture whose stream stops (its source died): media sent to it gets a reason.
    c.send({ type: 'capture-start', stream: 'camera', token: 'secret' });
    await c.next((m) => m.type === 'questions' && m.stream === 'camera');
    captures[1]!.sink.destroy();
    c.messages.length = 0;
    c.socket.send(Buffer.from([1, 2, 3]));
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      message: 'the capture has stopped',
    });
  });

  it('sends each stream only to its subscribers', async () => {
    const { url, hub, close } = await hubWith();
    cleanup.push(close);
    const [a, b] = await Promise.all([client(url), client(url)]);
    a.send({ type: 'subscribe', stream: 'stage' });
    await a.next((m) => m.type === 'questions');
    hub.publish({
      type: 'stream-status',
      stream: 'stage',
      state: 'live',
      segments: 1,
      skippedHops: 0,
    });
    await a.next((m) => m.type === 'stream-status');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // b has only the list of streams every client gets on connecting.
    expect(b.messages).toEqual([{ type: 'streams', streams: ['stage'] }]);
  });

  it('keeps a slow dashboard from holding up a fast one: bounded queue, oldest dropped, counted', async () => {
    const { url, hub, close } = await hubWith({ queueLimit: 20, backlogBytes: 64 * 1024 });
    cleanup.push(close);
    const [fast, slow] = await Promise.all([client(url), client(url)]);
    for (const c of [fast, slow]) {
      c.send({ type: 'subscribe', stream: 'stage' });
      await c.next((m) => m.type === 'questions');
    }
    // The slow dashboard stops reading from its socket.
    (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const detail = 'x'.repeat(20_000);
    const total = 1500;
    for (let i = 0; i < total; i++) {
      hub.publish({
        type: 'stream-status',
        stream: 'stage',
        state: 'live',
        detail,
        segments: i,
        skippedHops: 0,
      });
      // A live pace (answers come every hop), not one synchronous burst.
      if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await expect
      .poll(() => fast.messages.filter((m) => m.type === 'stream-status').length, {
        timeout: 10_000,
      })
      .toBe(total);
    expect(hub.stats.dropped).toBeGreaterThan(0);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const dropped = (await slow.next((m) => m.type === 'dropped', 10_000)) as { count: number };
    expect(dropped.count).toBeGreaterThan(0);
    // What it did get ends with the newest message: the oldest were the ones dropped.
    await expect
      .poll(
        () =>
          (
            slow.messages.filter((m) => m.type === 'stream-status').at(-1) as
              { segments: number } | undefined
          )?.segments,
        { timeout: 10_000 },
      )
      .toBe(total - 1);
  });
});
