/** A monitor on a free port with a WebSocket client that collects, validated, all it is sent. */
import WebSocket from 'ws';
import path from 'node:path';
import { Monitor, type MonitorConfig, type StreamConfig } from '../../server/monitor.js';
import { mediaFileSource } from '../../server/sources/media-file-source.js';
import { REPO_ROOT } from './musicavqa.js';
import { serverMessageSchema, type ServerMessage } from '../../shared/protocol/messages.js';

/** The shipped demo clip, looping in real time, as stream "demo" standing at `questions`. */
export function demoStream(questions: readonly string[]): StreamConfig {
  const demo = path.join(REPO_ROOT, 'server/sources/demo/demo.mp4');
  return {
    id: 'demo',
    source: () => mediaFileSource(demo, { realtime: true, loop: true }),
    questions,
  };
}

export interface LiveMonitor {
  readonly monitor: Monitor;
  readonly socket: WebSocket;
  readonly messages: ServerMessage[];
  readonly logs: string[];
  /** The first collected message (from `after` on) that matches. */
  waitFor<T extends ServerMessage>(
    predicate: (m: ServerMessage) => boolean,
    options?: { timeout?: number; after?: number },
  ): Promise<T>;
  send(message: unknown): void;
  stop(): Promise<void>;
}

export async function startLiveMonitor(
  config: Omit<MonitorConfig, 'host' | 'port' | 'log'>,
  subscribe: readonly string[],
): Promise<LiveMonitor> {
  const logs: string[] = [];
  const monitor = new Monitor({ ...config, host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
  await monitor.start();
  const socket = new WebSocket(`${monitor.url.replace('http', 'ws')}/ws`, {
    headers: { authorization: `Bearer ${config.token}` },
  });
  const messages: ServerMessage[] = [];
  socket.on('message', (data) =>
    messages.push(serverMessageSchema.parse(JSON.parse(data.toString()))),
  );
  await new Promise((resolve) => socket.once('open', resolve));
  const send = (message: unknown) => socket.send(JSON.stringify(message));
  for (const stream of subscribe) send({ type: 'subscribe', stream });
  return {
    monitor,
    socket,
    messages,
    logs,
    send,
    async waitFor<T extends ServerMessage>(
      predicate: (m: ServerMessage) => boolean,
      { timeout = 20_000, after = 0 } = {},
    ): Promise<T> {
      const started = Date.now();
      for (;;) {
        const found = messages.slice(after).find(predicate);
        if (found) return found as T;
        if (Date.now() - started > timeout)
          throw new Error(
            `timed out; last: ${JSON.stringify(messages.slice(-2)).slice(0, 500)}; logs: ${logs.slice(-5).join(' | ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      socket.close();
      await monitor.stop();
    },
  };
}
