/**
 * Every answer and stream event, in a SQLite database file (better-sqlite3), queryable by stream
 * and time range: what the monitor said survives its restarts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ServerMessage } from '../../shared/protocol/messages.js';

export interface LoggedEvent {
  readonly stream: string;
  /** Wall-clock time it was logged, ms since the epoch. */
  readonly at: number;
  readonly message: ServerMessage;
}

export interface HistoryQuery {
  readonly stream: string;
  readonly from?: number;
  readonly to?: number;
  readonly type?: ServerMessage['type'];
  readonly limit?: number;
}

/**
 * What is kept of a message: all of it, except an answer's per-segment spatial maps (most of
 * its size, and only the live picture shows them); its other evidence stays.
 */
function logged(message: ServerMessage): ServerMessage {
  if (message.type !== 'answer') return message;
  return { ...message, attention: { ...message.attention, spatial: [] } };
}

export class EventLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        at REAL NOT NULL,
        type TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_by_stream_time ON events (stream, at);
    `);
    this.insert = this.db.prepare(
      'INSERT INTO events (stream, at, type, message) VALUES (?, ?, ?, ?)',
    );
  }

  /**
   * Logs a stream's message (see `logged`). Not logged: messages without a stream, and segment
   * spectrograms (what was heard is the media's, not the monitor's, to keep).
   */
  record(message: ServerMessage, at = Date.now()): void {
    if (!('stream' in message) || message.type === 'segment') return;
    this.insert.run(message.stream, at, message.type, JSON.stringify(logged(message)));
  }

  history(query: HistoryQuery): LoggedEvent[] {
    const rows = this.db
      .prepare(
        `SELECT stream, at, message FROM events
         WHERE stream = ? AND at >= ? AND at <= ? AND (? IS NULL OR type = ?)
         ORDER BY at, id LIMIT ?`,
      )
      .all(
        query.stream,
        query.from ?? 0,
        query.to ?? Number.MAX_SAFE_INTEGER,
        query.type ?? null,
        query.type ?? null,
        Math.min(query.limit ?? 1000, 10_000),
      ) as Array<{
      stream: string;
      at: number;
      message: string;
    }>;
    return rows.map((row) => ({
      stream: row.stream,
      at: row.at,
      message: JSON.parse(row.message) as ServerMessage,
    }));
  }

  /**
   * Deletes what was logged before `before` (ms since the epoch), keeping each stream's latest
   * `questions` event (what it stands at); returns how many events went.
   */
  prune(before: number): number {
    return this.db
      .prepare(
        `DELETE FROM events WHERE at < ? AND id NOT IN (
           SELECT MAX(id) FROM events WHERE type = 'questions' GROUP BY stream)`,
      )
      .run(before).changes;
  }

  /** The stream's most recent message of `type`, if it logged one. */
  latest<T extends ServerMessage['type']>(
    stream: string,
    type: T,
  ): Extract<ServerMessage, { type: T }> | undefined {
    const row = this.db
      .prepare('SELECT message FROM events WHERE stream = ? AND type = ? ORDER BY at DESC, id DESC')
      .get(stream, type) as { message: string } | undefined;
    return row && (JSON.parse(row.message) as Extract<ServerMessage, { type: T }>);
  }

  close(): void {
    this.db.close();
  }
}
