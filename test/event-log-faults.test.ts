/**
 * The event log under injected faults: a full disk (`ulimit -f` on a child process), a lock held
 * by another process, the file deleted while in use. Writing never throws at the caller, never
 * waits on a lock, loses nothing within its bound, and counts what it drops past it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EventLog, type LogHealth } from '../server/storage/event-log.js';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { holdLock } from './support/hold-lock.js';
import { REPO_ROOT } from './support/musicavqa.js';

const status = (segments: number): ServerMessage => ({
  type: 'stream-status',
  stream: 'stage',
  state: 'live',
  segments,
  skippedHops: 0,
});
const tempFile = () =>
  path.join(mkdtempSync(path.join(tmpdir(), 'tutti-faults-')), 'events.sqlite');

describe('event log faults', () => {
  it('keeps its process alive on a full disk: writes fail, are counted, the buffer stays bounded', async () => {
    const file = tempFile();
    const { stdout } = await promisify(execFile)(
      'sh',
      [
        '-c',
        `ulimit -f 200; exec "${process.execPath}" --import tsx test/support/fill-event-log.ts "${file}"`,
      ],
      { cwd: REPO_ROOT },
    );
    const report = JSON.parse(stdout) as {
      recorded: number;
      changes: LogHealth[];
      health: LogHealth;
      worstFlushMs: number;
    };
    expect(report.changes[0]?.failing).toMatch(/SQLITE_(FULL|IOERR)/);
    expect(report.health.pending).toBe(500); // its bound
    expect(report.health.dropped).toBeGreaterThan(0);
    expect(report.worstFlushMs).toBeLessThan(500);
  });

  it('does not wait for a lock held by another process, and loses nothing once it is released', async () => {
    const file = tempFile();
    const changes: LogHealth[] = [];
    const log = new EventLog(file, { flushMs: 20, onHealth: (health) => changes.push(health) });
    log.record(status(0));
    expect(log.flush()).toBe(true);
    const holder = await holdLock(file);
    for (let k = 1; k <= 300; k++) log.record(status(k));
    const started = performance.now();
    expect(log.flush()).toBe(false);
    expect(performance.now() - started).toBeLessThan(100); // no busy wait
    expect(log.health()).toMatchObject({ pending: 300, dropped: 0 });
    expect(changes.at(-1)?.failing).toMatch(/SQLITE_BUSY|locked/);
    holder.kill();
    await new Promise((resolve) => holder.once('exit', resolve));
    // Retried with backoff, on its own.
    for (let k = 0; k < 100 && log.health().pending > 0; k++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log.health()).toEqual({ pending: 0, dropped: 0 });
    expect(changes.at(-1)?.failing).toBeUndefined();
    const logged = log.history({ stream: 'stage', limit: 2000 });
    expect(logged.map((e) => (e.message as { segments: number }).segments)).toEqual(
      Array.from({ length: 301 }, (_, k) => k),
    );
    log.close();
  });

  it('drops the oldest past its bound while the lock is held, and counts them', async () => {
    const file = tempFile();
    const log = new EventLog(file, { maxPending: 50 });
    const holder = await holdLock(file);
    for (let k = 0; k < 80; k++) log.record(status(k));
    expect(log.flush()).toBe(false);
    expect(log.health()).toMatchObject({ pending: 50, dropped: 30 });
    holder.kill();
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(log.flush()).toBe(true);
    expect(
      log.history({ stream: 'stage' }).map((e) => (e.message as { segments: number }).segments)[0],
    ).toBe(30);
    log.close();
  });

  it('notices its file deleted while running, and creates it again', () => {
    const file = tempFile();
    let recreated = 0;
    const log = new EventLog(file, { onRecreated: () => (recreated += 1) });
    log.record(status(1));
    log.flush();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    log.record(status(2));
    expect(log.flush()).toBe(true);
    expect(recreated).toBe(1);
    expect(existsSync(file)).toBe(true);
    log.close();
    const reopened = new EventLog(file);
    expect(reopened.history({ stream: 'stage' }).map((e) => e.message)).toEqual([status(2)]);
    reopened.close();
  });
});
