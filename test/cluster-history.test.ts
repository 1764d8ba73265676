/**
 * A gateway's history from the cluster's answer log (log-history.ts) on a real nats-server: the
 * single monitor's query and page — one stream, one type, a time range, oldest or newest first,
 * pages joined by `next` — read from JetStream.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyFromLog } from '../server/cluster/log-history.js';
import { ensureMessageLog, MessagePublisher } from '../server/cluster/message-bus.js';
import type { HistoryQuery } from '../server/storage/history-page.js';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { liveStatus } from './support/status-message.js';
import { NatsServer } from './support/nats-server.js';

type Page = {
  events: Array<{ stream: string; at: number; message: ServerMessage }>;
  next?: string;
};

describe('history from the answer log', () => {
  let server: NatsServer;
  let connection: NatsConnection;
  let middle = 0;

  beforeAll(async () => {
    server = await NatsServer.start();
    connection = await server.connectRole('gateway');
    await ensureMessageLog(connection);
    const publisher = new MessagePublisher(connection);
    for (let i = 0; i < 30; i++) {
      await publisher.publish(liveStatus('stage-a', i));
      if (i % 3 === 0) await publisher.publish(liveStatus('stage-b', i));
      if (i % 10 === 0)
        await publisher.publish({ type: 'questions', stream: 'stage-a', questions: [] });
      if (i === 14) middle = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }, 30_000);
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  const read = async (query: HistoryQuery) =>
    JSON.parse(await historyFromLog(connection, query)) as Page;
  const segmentsOf = (page: Page) =>
    page.events.map((e) => (e.message.type === 'stream-status' ? e.message.segments : -1));

  /** Every page of a query, following `next`. */
  async function all(query: HistoryQuery) {
    const pages: Page[] = [];
    let cursor: string | undefined;
    do {
      pages.push(await read({ ...query, ...(cursor ? { cursor } : {}) }));
      cursor = pages.at(-1)!.next;
    } while (cursor);
    return pages;
  }

  it('pages a stream of one type oldest first and newest first', async () => {
    const ascending = await all({ stream: 'stage-a', type: 'stream-status', limit: 8 });
    expect(ascending.map((p) => p.events.length)).toEqual([8, 8, 8, 6]);
    expect(ascending.flatMap(segmentsOf)).toEqual([...Array(30).keys()]);
    const descending = await all({
      stream: 'stage-a',
      type: 'stream-status',
      limit: 8,
      order: 'desc',
    });
    expect(descending.flatMap(segmentsOf)).toEqual([...Array(30).keys()].reverse());
    const page = ascending[0]!.events;
    expect(page.every((e) => e.stream === 'stage-a')).toBe(true);
    expect(page.map((e) => e.at)).toEqual([...page.map((e) => e.at)].sort((x, y) => x - y));
  });

  it('keeps to the time range, the type and the stream asked for', async () => {
    const later = await read({ stream: 'stage-a', type: 'stream-status', from: middle });
    expect(segmentsOf(later)[0]).toBeGreaterThanOrEqual(14);
    expect(segmentsOf(later).at(-1)).toBe(29);
    const earlier = await read({ stream: 'stage-a', type: 'stream-status', to: middle });
    expect(segmentsOf(earlier)).toEqual([...Array(15).keys()]);
    expect((await read({ stream: 'stage-a', type: 'questions' })).events).toHaveLength(3);
    expect((await read({ stream: 'stage-a' })).events).toHaveLength(33);
    expect(segmentsOf(await read({ stream: 'stage-b' }))).toEqual([
      0, 3, 6, 9, 12, 15, 18, 21, 24, 27,
    ]);
    expect((await read({ stream: 'nobody' })).events).toEqual([]);
  });

  it('refuses a cursor it did not give, and a range too long to read backwards', async () => {
    await expect(read({ stream: 'stage-a', cursor: 'yesterday' })).rejects.toThrow(
      'cursor "yesterday" is not one this log gave',
    );
    await expect(
      historyFromLog(connection, { stream: 'stage-a', order: 'desc', limit: 2 }, 10),
    ).rejects.toThrow(
      /more than 10 events from the start of the range: narrow it with from and to/,
    );
  });
});
