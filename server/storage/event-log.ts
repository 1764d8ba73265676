/**
 * Every answer and stream event, in a SQLite database file (better-sqlite3), queryable by stream
 * and time range: what the monitor said survives its restarts.
 *
 * Live answering never waits for the log. Events are buffered and written in one transaction a
 * few times a second, without waiting for locks; a write that fails (disk full, a lock held by
 * another process) leaves them buffered, retried with backoff, and past `maxPending` the oldest
 * are dropped and counted. A database file deleted or replaced while running is noticed and
 * created again (`onRecreated` lets the monitor log again what a restart needs).
 */
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import { openEventDatabase } from './event-database.js';
import { historyPage, type HistoryQuery } from './history-page.js';

export type { HistoryQuery } from './history-page.js';

export interface LoggedEvent {
  readonly stream: string;
  /** Wall-clock time it was logged, ms since the epoch. */
  readonly at: number;
  readonly message: ServerMessage;
}

export interface LogHealth {
  /** Why writes fail, while they do. */
  readonly failing?: string;
  /** Events waiting to be written. */
  readonly pending: number;
  /** Events dropped because too many waited, since the start. */
  readonly dropped: number;
}

export interface EventLogOptions {
  /** Events kept waiting for the database at most (default 20,000, about 20 MB). */
  readonly maxPending?: number;
  /** How often waiting events are written (default 200 ms). */
  readonly flushMs?: number;
  /** Told when writes start or stop failing. */
  readonly onHealth?: (health: LogHealth) => void;
  /** Told when the file was found deleted or replaced and was created again. */
  readonly onRecreated?: () => void;
}

/**
 * What is kept of a message: all of it, except an answer's per-segment spatial maps (most of
 * its size, and only the live picture shows them); its other evidence stays.
 */
function logged(message: ServerMessage): ServerMessage {
  if (message.type !== 'answer') return message;
  return { ...message, attention: { ...message.attention, spatial: [] } };
}

type Row = [stream: string, at: number, type: string, message: string];

const MAX_RETRY_MS = 5000;

export class EventLog {
  private db?: Database.Database;
  /** The insert, prepared once per opened file (flushes run a few times a second). */
  private insert?: Database.Statement;
  private inode?: number;
  private pending: Row[] = [];
  private timer?: NodeJS.Timeout;
  private retryMs = 0;
  private failing?: string;
  private dropped = 0;
  /** Flushes that failed, since the start (each is retried). */
  failedWrites = 0;

  constructor(
    readonly file: string,
    private readonly options: EventLogOptions = {},
  ) {
    this.db = this.open();
  }

  private open(): Database.Database {
    const db = openEventDatabase(this.file);
    this.insert = db.prepare('INSERT INTO events (stream, at, type, message) VALUES (?, ?, ?, ?)');
    this.inode = this.file === ':memory:' ? undefined : statSync(this.file).ino;
    return db;
  }

  health(): LogHealth {
    return {
      ...(this.failing ? { failing: this.failing } : {}),
      pending: this.pending.length,
      dropped: this.dropped,
    };
  }

  /**
   * Logs a stream's message (see `logged`), soon. Not logged: messages without a stream, and
   * segment spectrograms (what was heard is the media's, not the monitor's, to keep).
   */
  record(message: ServerMessage, at = Date.now()): void {
    if (!('stream' in message) || message.type === 'segment') return;
    this.pending.push([message.stream, at, message.type, JSON.stringify(logged(message))]);
    const overflow = this.pending.length - (this.options.maxPending ?? 20_000);
    if (overflow > 0) {
      this.pending.splice(0, overflow);
      this.dropped += overflow;
    }
    this.timer ??= this.later(this.retryMs || (this.options.flushMs ?? 200));
  }

  /** Writes what waits, now; false (and retried later) when the database refuses. */
  flush(): boolean {
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.noticeReplacedFile();
      const db = this.database();
      const insert = this.insert!;
      db.transaction((rows: Row[]) => rows.forEach((row) => insert.run(...row)))(this.pending);
      this.pending = [];
      this.retryMs = 0;
      this.setFailing(undefined);
      return true;
    } catch (error) {
      try {
        if (this.db?.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // the next flush starts clean or fails again, counted the same way
      }
      this.retryMs = Math.min(MAX_RETRY_MS, Math.max(250, this.retryMs * 2));
      this.failedWrites += 1;
      this.setFailing(describe(error));
      if (this.pending.length > 0) this.timer = this.later(this.retryMs);
      return false;
    }
  }

  /** A flush after `ms`; it does not keep the process alive by itself. */
  private later(ms: number): NodeJS.Timeout {
    return setTimeout(() => this.flush(), ms).unref();
  }

  private noticeReplacedFile(): void {
    if (this.inode === undefined) return;
    const inode = (() => {
      try {
        return statSync(this.file).ino;
      } catch {
        return undefined;
      }
    })();
    if (inode === this.inode) return;
    this.db?.close();
    this.db = undefined;
    this.db = this.open();
    this.options.onRecreated?.();
  }

  private setFailing(reason: string | undefined): void {
    if (reason === this.failing) return;
    this.failing = reason;
    this.options.onHealth?.(this.health());
  }

  /** One page of history, read on this thread (the monitor reads through HistoryReader). */
  history(query: HistoryQuery): LoggedEvent[] {
    this.flush();
    return (JSON.parse(historyPage(this.database(), query)) as { events: LoggedEvent[] }).events;
  }

  /** The history page as its JSON body, for a log kept in memory (no other thread can read it). */
  historyBody(query: HistoryQuery): string {
    this.flush();
    return historyPage(this.database(), query);
  }

  private database(): Database.Database {
    return (this.db ??= this.open());
  }

  /**
   * Deletes what was logged before `before` (ms since the epoch), keeping each stream's latest
   * `questions` and `rules` events (what it stands at); returns how many events went.
   */
  prune(before: number): number {
    this.flush();
    return this.database()
      .prepare(
        `DELETE FROM events WHERE at < ? AND id NOT IN (
           SELECT MAX(id) FROM events WHERE type IN ('questions', 'rules') GROUP BY stream, type)`,
      )
      .run(before).changes;
  }

  /** The stream's most recent message of `type`, if it logged one. */
  latest<T extends ServerMessage['type']>(
    stream: string,
    type: T,
  ): Extract<ServerMessage, { type: T }> | undefined {
    const waiting = this.pending.findLast((row) => row[0] === stream && row[2] === type);
    const row =
      waiting ??
      (this.database()
        .prepare(
          'SELECT stream, at, type, message FROM events WHERE stream = ? AND type = ? ORDER BY at DESC, id DESC',
        )
        .raw()
        .get(stream, type) as Row | undefined);
    return row && (JSON.parse(row[3]) as Extract<ServerMessage, { type: T }>);
  }

  /** Writes what waits (once more) and closes the file. */
  close(): void {
    this.flush();
    clearTimeout(this.timer);
    this.db?.close();
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
