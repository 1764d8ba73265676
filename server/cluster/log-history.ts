/**
 * A gateway's history (`GET /api/streams/<id>/history`) read from the cluster's answer log, the
 * JetStream stream every node publishes into — the same query and the same page as the single
 * monitor's SQLite log (storage/history-page.ts): events of one stream, optionally of one type,
 * in a time range, oldest or newest first, `next` for the following page. An ordered consumer
 * filtered to the stream's (and type's) subject reads the range from its first message; JetStream
 * cannot read backwards, so a newest-first page keeps the last ones it reads, and a range of more
 * than `maxScan` events is refused with the advice to narrow it. `at` is the time the log stored
 * the message; the cursor is "at:sequence".
 */
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { MAX_HISTORY_PAGE, pageBody, type HistoryQuery } from '../storage/history-page.js';
import { HistoryQueryError } from '../storage/history-reader.js';
import { MESSAGES_STREAM, SUBJECT_ROOT } from './message-bus.js';

const CURSOR = /^(\d+):(\d+)$/;

/** A logged message: when the log stored it, its sequence in the log (the cursor's id), its JSON. */
interface Row {
  readonly at: number;
  readonly id: number;
  readonly message: string;
}

export async function historyFromLog(
  connection: NatsConnection,
  query: HistoryQuery,
  maxScan = 50_000,
): Promise<string> {
  const limit = Math.min(query.limit ?? 500, MAX_HISTORY_PAGE);
  const descending = query.order === 'desc';
  let cursorSeq: number | undefined;
  if (query.cursor !== undefined) {
    const match = CURSOR.exec(query.cursor);
    if (!match) throw new HistoryQueryError(`cursor "${query.cursor}" is not one this log gave`);
    cursorSeq = Number(match[2]);
  }
  const start =
    !descending && cursorSeq !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: cursorSeq + 1 }
      : query.from !== undefined
        ? {
            deliver_policy: DeliverPolicy.StartTime,
            opt_start_time: new Date(query.from).toISOString(),
          }
        : { deliver_policy: DeliverPolicy.All };
  const consumer = await jetstream(connection).consumers.get(MESSAGES_STREAM, {
    // One subject, not a list: nats-server 2.9 takes no list.
    filter_subjects: `${SUBJECT_ROOT}.${query.stream}.${query.type ?? '*'}`,
    ...start,
  });
  let pending = (await consumer.info()).num_pending;
  let kept: Row[] = [];
  let scanned = 0;
  let done = pending === 0;
  while (!done) {
    const batch = await consumer.fetch({ max_messages: Math.min(pending, 500), expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      got += 1;
      scanned += 1;
      pending = m.info.pending;
      const row = { at: m.time.getTime(), id: m.seq, message: m.string() };
      const past =
        (query.to !== undefined && row.at > query.to) ||
        (descending && cursorSeq !== undefined && row.id >= cursorSeq);
      if (!past) kept.push(row);
      if (past || (!descending && kept.length > limit) || pending === 0) {
        done = true;
        break;
      }
      if (scanned >= maxScan)
        throw new HistoryQueryError(
          `more than ${maxScan} events from the start of the range: narrow it with from and to`,
        );
      // Newest first: only the last limit + 1 read so far can be on the page.
      if (descending && kept.length > 4 * (limit + 1)) kept = kept.slice(-(limit + 1));
    }
    if (got === 0) done = true;
  }
  return pageBody(query.stream, descending ? kept.slice(-(limit + 1)).reverse() : kept, limit);
}
