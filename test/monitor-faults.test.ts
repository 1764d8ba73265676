/**
 * The live monitor under injected faults: its log locked by another process, its source's ffmpeg
 * stopped with SIGSTOP, more captures than it takes. Answering goes on through each, /api/health
 * says what is wrong, and what recovers is seen to recover.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthResponseSchema } from '../shared/protocol/health.js';
import type { AnswerMessage, ServerMessage } from '../shared/protocol/messages.js';
import { holdLock } from './support/hold-lock.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { demoStream, startLiveMonitor, type LiveMonitor } from './support/live-monitor.js';

const TOKEN = 'fault-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe('monitor faults', () => {
  let live: LiveMonitor;
  let database = '';
  const health = async () =>
    healthResponseSchema.parse(
      await (await fetch(`${live.monitor.url}/api/health`, { headers: AUTH })).json(),
    );

  beforeAll(async () => {
    database = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-faults-')), 'events.sqlite');
    live = await startLiveMonitor(
      {
        profile: path.join(REPO_ROOT, 'models', 'tiny'),
        token: TOKEN,
        windowSeconds: 4,
        hopSeconds: 1,
        database,
        limits: { stallSeconds: 2, maxCaptures: 1, endedStreamSeconds: 0.5 },
        streams: [
          demoStream([
            'Is there a flute sound?',
            'How many instruments are sounding in the video?',
          ]),
        ],
      },
      ['demo'],
    );
    await live.waitFor((m) => m.type === 'answer');
  }, 60_000);
  afterAll(() => live?.stop());

  it('keeps answering, without stalls, while another process holds the log locked', async () => {
    const holder = await holdLock(database);
    const lockedAt = Date.now();
    const from = live.messages.length;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    delay.disable();
    const during = await health();
    holder.kill();
    const answered = live.messages
      .slice(from)
      .filter((m): m is AnswerMessage => m.type === 'answer');
    // About 2 answers a second went on (allowing for a busy machine), with no long stall.
    expect(answered.length).toBeGreaterThanOrEqual(4);
    expect(delay.max / 1e6).toBeLessThan(1000);
    expect(during.status).toBe('degraded');
    expect(during.reasons.join()).toMatch(/event log writes failing: SQLITE_BUSY/);
    expect(
      live.messages.slice(from).some((m) => m.type === 'error' && /event log/.test(m.message)),
    ).toBe(true);
    // Once the lock is gone the waiting events are written: nothing said while locked is lost.
    for (let k = 0; k < 100 && (await health()).status !== 'ok'; k++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await health()).status).toBe('ok');
    const history = (await (
      await fetch(
        `${live.monitor.url}/api/streams/demo/history?type=answer&from=${lockedAt}&limit=2000`,
        { headers: AUTH },
      )
    ).json()) as { events: Array<{ message: AnswerMessage }> };
    const logged = new Set(
      history.events.map((e) => `${e.message.questionId}@${e.message.window.end}`),
    );
    for (const answer of answered)
      expect(logged).toContain(`${answer.questionId}@${answer.window.end}`);
  }, 30_000);

  it('restarts a source whose ffmpeg was stopped (SIGSTOP), and says so in health', async () => {
    const pid = Number(
      execFileSync('pgrep', ['-P', String(process.pid), '-f', 'demo.mp4'])
        .toString()
        .trim()
        .split('\n')[0],
    );
    const from = live.messages.length;
    process.kill(pid, 'SIGSTOP');
    const retrying = await live.waitFor<Extract<ServerMessage, { type: 'stream-status' }>>(
      (m) => m.type === 'stream-status' && m.state === 'retrying',
      { after: from, timeout: 10_000 },
    );
    expect(retrying.detail).toMatch(/no media for 2 s: the source stalled; retrying in 1 s/);
    expect((await health()).reasons.join()).toMatch(/stream demo: no media for 2 s/);
    await live.waitFor((m) => m.type === 'stream-status' && m.state === 'live', {
      after: from,
      timeout: 10_000,
    });
    await live.waitFor((m) => m.type === 'answer', {
      after: live.messages.length,
      timeout: 15_000,
    });
    expect(existsSync(`/proc/${pid}`)).toBe(false); // the stopped ffmpeg was ended, not left behind
  }, 40_000);

  it('takes no more captures than its limit, and removes an ended one after the grace period', async () => {
    const from = live.messages.length;
    live.send({ type: 'capture-start', stream: 'cam1', token: TOKEN });
    await live.waitFor((m) => m.type === 'streams' && m.streams.includes('cam1'), { after: from });
    // The same limit holds for every connection.
    const other = await startSecondClient(live.monitor.url);
    other.send({ type: 'capture-start', stream: 'cam2', token: TOKEN });
    expect(await other.next((m) => m.type === 'error')).toMatchObject({
      message: expect.stringMatching(/1 captures are running, the most this monitor takes/),
    });
    other.close();
    // Nothing arrives: the capture ends; half a second later the stream is gone from the list.
    live.send({ type: 'capture-end' });
    await live.waitFor(
      (m) => m.type === 'stream-status' && m.stream === 'cam1' && m.state === 'stopped',
      { after: from },
    );
    await live.waitFor(
      (m) => m.type === 'streams' && !m.streams.includes('cam1') && m.streams.includes('demo'),
      {
        after: from,
        timeout: 5000,
      },
    );
    const removedAt = live.messages.length;
    await new Promise((resolve) => setTimeout(resolve, 5500)); // one heartbeat
    expect(live.messages.slice(removedAt).some((m) => 'stream' in m && m.stream === 'cam1')).toBe(
      false,
    );
  }, 30_000);
});

async function startSecondClient(url: string) {
  const { default: WebSocket } = await import('ws');
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: AUTH });
  const seen: ServerMessage[] = [];
  socket.on('message', (data) => seen.push(JSON.parse(data.toString()) as ServerMessage));
  await new Promise((resolve) => socket.once('open', resolve));
  return {
    seen,
    send: (message: unknown) => socket.send(JSON.stringify(message)),
    close: () => socket.close(),
    async next(predicate: (m: ServerMessage) => boolean) {
      for (let k = 0; k < 200; k++) {
        const found = seen.find(predicate);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`nothing matched in ${JSON.stringify(seen)}`);
    },
  };
}
