/**
 * History reads, off the thread that answers: each request opens the log read-only (WAL lets it
 * read while the monitor writes), builds one page and closes it, so a replaced file is seen.
 */
import { parentPort } from 'node:worker_threads';
import { openEventDatabase } from './event-database.js';
import { historyPage, type HistoryQuery } from './history-page.js';

export type HistoryRequest = { id: number; file: string; query: HistoryQuery };
export type HistoryReply = { id: number; body: string } | { id: number; error: string; bad?: true };

parentPort!.on('message', ({ id, file, query }: HistoryRequest) => {
  let reply: HistoryReply;
  try {
    const db = openEventDatabase(file, { readonly: true });
    try {
      reply = { id, body: historyPage(db, query) };
    } finally {
      db.close();
    }
  } catch (error) {
    const bad = (error as Error).name === 'HistoryCursorError' || undefined;
    reply = { id, error: (error as Error).message, ...(bad ? { bad } : {}) };
  }
  parentPort!.postMessage(reply);
});
