/**
 * The monitor's side of the history worker: pages of the event log as promises. Requests queue
 * in the worker, one at a time, so heavy readers wait for each other, never for live answering;
 * past `maxQueued` waiting requests a reader is told to come back later.
 */
import { Worker } from 'node:worker_threads';
import type { HistoryQuery } from './history-page.js';
import type { HistoryReply } from './history-worker.js';

export class HistoryBusyError extends Error {}
export class HistoryQueryError extends Error {}

type Waiter = { resolve: (body: string) => void; reject: (error: Error) => void };

export class HistoryReader {
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();

  constructor(
    private readonly file: string,
    private readonly maxQueued = 8,
  ) {}

  /** The page as its JSON body; rejects with HistoryBusyError when too many reads wait. */
  page(query: HistoryQuery): Promise<string> {
    if (this.waiting.size >= this.maxQueued)
      return Promise.reject(new HistoryBusyError(`${this.waiting.size} history reads waiting`));
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.started().postMessage({ id, file: this.file, query });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./history-worker.mjs', import.meta.url));
    worker.on('message', (reply: HistoryReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('body' in reply) waiter?.resolve(reply.body);
      else waiter?.reject(reply.bad ? new HistoryQueryError(reply.error) : new Error(reply.error));
    });
    // A dead worker fails what it held; the next read starts a new one.
    const fail = (error: Error) => {
      this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`history worker exited (${code})`)));
    worker.unref();
    return (this.worker = worker);
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
