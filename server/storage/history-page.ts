/**
 * One page of a stream's logged events, as the HTTP body it is sent as: the stored JSON of each
 * message is spliced in, never parsed, so a page costs the reader a query and a string join.
 */
import type Database from 'better-sqlite3';
import type { ServerMessage } from '../../shared/protocol/messages.js';

/** Events per page at most (about 1 KB each): bigger reads take several pages. */
export const MAX_HISTORY_PAGE = 2000;

export interface HistoryQuery {
  readonly stream: string;
  readonly from?: number;
  readonly to?: number;
  readonly type?: ServerMessage['type'];
  /** Events in this page (default 500, at most MAX_HISTORY_PAGE). */
  readonly limit?: number;
  /** 'asc' oldest first (default), 'desc' newest first. */
  readonly order?: 'asc' | 'desc';
  /** Where the previous page ended (its `next`). */
  readonly cursor?: string;
}

const CURSOR = /^(-?\d+(?:\.\d+)?):(\d+)$/;

export class HistoryCursorError extends Error {
  override name = 'HistoryCursorError';
}

/** `{"events":[{stream, at, message}…], "next"?: cursor}` — `next` when more events match. */
export function historyPage(db: Database.Database, query: HistoryQuery): string {
  const limit = Math.min(query.limit ?? 500, MAX_HISTORY_PAGE);
  const descending = query.order === 'desc';
  let after: [number, number] | undefined;
  if (query.cursor !== undefined) {
    const match = CURSOR.exec(query.cursor);
    if (!match) throw new HistoryCursorError(`cursor "${query.cursor}" is not one this log gave`);
    after = [Number(match[1]), Number(match[2])];
  }
  const rows = db
    .prepare(
      `SELECT id, at, message FROM events
       WHERE stream = ? AND at >= ? AND at <= ? AND (? IS NULL OR type = ?)
         AND (? IS NULL OR (at, id) ${descending ? '<' : '>'} (?, ?))
       ORDER BY at ${descending ? 'DESC' : 'ASC'}, id ${descending ? 'DESC' : 'ASC'} LIMIT ?`,
    )
    .all(
      query.stream,
      query.from ?? 0,
      query.to ?? Number.MAX_SAFE_INTEGER,
      query.type ?? null,
      query.type ?? null,
      after ? 1 : null,
      after?.[0] ?? null,
      after?.[1] ?? null,
      limit + 1,
    ) as Array<{ id: number; at: number; message: string }>;
  return pageBody(query.stream, rows, limit);
}

/**
 * The body of a page from up to `limit + 1` rows in page order (the extra one says there is a
 * next page): each row's stored JSON spliced in; `next` is "at:id" of the page's last row.
 */
export function pageBody(
  stream: string,
  rows: ReadonlyArray<{ id: number; at: number; message: string }>,
  limit: number,
): string {
  const page = rows.slice(0, limit);
  const name = JSON.stringify(stream);
  const events = page.map((row) => `{"stream":${name},"at":${row.at},"message":${row.message}}`);
  const last = page.at(-1);
  const next = rows.length > limit && last ? `,"next":"${last.at}:${last.id}"` : '';
  return `{"events":[${events.join(',')}]${next}}`;
}
