// @vitest-environment node
/**
 * The dashboard's connection, against a real `ws` server, with `ws`'s client as the browser's
 * WebSocket (it has the same API; jsdom's clashes with Node's Event): it keeps what the monitor
 * pushes, ignores what the protocol does not allow, and reconnects by itself when the monitor
 * restarts, subscribing again to its streams.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type * as Ws from 'ws';
import { Connection } from '../../client/src/lib/connection.svelte.js';
import type { ServerMessage } from '../../shared/protocol/messages.js';

// Node's own `ws`, by file: these tests resolve packages for the browser, where `ws` is a stub.
const require = createRequire(import.meta.url);
const { WebSocket, WebSocketServer } = require(
  path.join(path.dirname(require.resolve('ws/package.json')), 'index.js'),
) as typeof Ws;
globalThis.WebSocket = WebSocket as unknown as typeof globalThis.WebSocket;

/** A stand-in monitor: records what clients send, sends what the test says. */
async function fakeMonitor(port = 0) {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((resolve) => server.once('listening', resolve));
  const received: unknown[] = [];
  const clients: Ws.WebSocket[] = [];
  server.on('connection', (socket) => {
    clients.push(socket);
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
  });
  return {
    port: (server.address() as AddressInfo).port,
    received,
    send: (message: ServerMessage | string) =>
      clients.forEach((c) =>
        c.send(typeof message === 'string' ? message : JSON.stringify(message)),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        clients.forEach((c) => c.terminate());
        server.close(() => resolve());
      }),
  };
}

async function until(condition: () => boolean, timeout = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeout) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const status = (segments: number): ServerMessage => ({
  type: 'stream-status',
  stream: 'demo',
  state: 'live',
  segments,
  skippedHops: 0,
});

describe('Connection', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('keeps valid messages per stream and ignores invalid ones', async () => {
    const monitor = await fakeMonitor();
    cleanups.push(monitor.close);
    const connection = new Connection(`ws://127.0.0.1:${monitor.port}`);
    connection.subscribe('demo');
    await until(() => connection.connected);
    await until(() => monitor.received.length > 0);
    expect(monitor.received).toEqual([{ type: 'subscribe', stream: 'demo' }]);

    monitor.send({ type: 'error', message: 'stream demo: segment 3 rejected' });
    monitor.send(JSON.stringify({ type: 'stream-status', stream: 'demo', state: 'dancing' }));
    monitor.send(status(7));
    await until(() => connection.streams['demo']?.status !== undefined);
    expect(connection.streams['demo']!.status!.segments).toBe(7);
    expect(connection.error).toBe('stream demo: segment 3 rejected');
    // A new request clears the old error; a subscription is not a request that can fail so.
    connection.subscribe('other');
    expect(connection.error).toBe('stream demo: segment 3 rejected');
    connection.send({ type: 'remove-question', stream: 'demo', questionId: 'q9', token: 't' });
    expect(connection.error).toBe('');
    connection.close();
  });

  it('keeps each question’s answer changes, without the duplicates the log and the live stream share, across restarts', async () => {
    const monitor = await fakeMonitor();
    cleanups.push(monitor.close);
    const connection = new Connection(`ws://127.0.0.1:${monitor.port}`);
    connection.subscribe('demo');
    await until(() => monitor.received.length > 0);
    const change = (
      from: string | null,
      to: string,
      end: number,
      at = end * 1000,
    ): ServerMessage => ({
      type: 'answer-change',
      stream: 'demo',
      questionId: 'q1',
      sentence: 'Is there a flute sound?',
      from,
      to,
      confidence: 0.6,
      window: { start: 0, end },
      at,
    });
    monitor.send(change(null, 'no', 3));
    monitor.send(change('no', 'yes', 9));
    monitor.send(change('no', 'yes', 9));
    // After a restart of the stream: the same window end, another time, kept.
    monitor.send(change(null, 'no', 3, 60_000));
    await until(() => (connection.streams['demo']?.changes['q1']?.length ?? 0) >= 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(
      connection.streams['demo']!.changes['q1']!.map((c) => `${c.window.end}:${c.to}`),
    ).toEqual(['3:no', '9:yes', '3:no']);
    connection.close();
  });

  it('reconnects by itself when the monitor restarts, and subscribes again', async () => {
    const first = await fakeMonitor();
    const connection = new Connection(`ws://127.0.0.1:${first.port}`);
    connection.subscribe('demo');
    await until(() => first.received.length > 0);
    first.send(status(1));
    await until(() => connection.streams['demo']?.status?.segments === 1);

    await first.close();
    await until(() => !connection.connected);

    const second = await fakeMonitor(first.port);
    cleanups.push(second.close);
    await until(() => connection.connected);
    await until(() => second.received.length > 0);
    expect(second.received).toEqual([{ type: 'subscribe', stream: 'demo' }]);
    second.send(status(2));
    await until(() => connection.streams['demo']?.status?.segments === 2);
    connection.close();
  });
});
