/** The event log's SQLite file: one table of logged messages, by stream and time. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export function openEventDatabase(
  file: string,
  options: { readonly?: boolean } = {},
): Database.Database {
  if (options.readonly) return new Database(file, { readonly: true, fileMustExist: true });
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  // Opening may wait for a lock (5 s, better-sqlite3's default); writing later never does.
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY,
      stream TEXT NOT NULL,
      at REAL NOT NULL,
      type TEXT NOT NULL,
      message TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS events_by_stream_time ON events (stream, at);
  `);
  db.pragma('busy_timeout = 0');
  return db;
}
