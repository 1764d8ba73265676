/**
 * Run as a child process under `ulimit -f` (a full disk, without a mount): records answers into
 * an event log until its writes fail, then a while longer, and prints what it saw as JSON.
 * Usage: fill-event-log.ts FILE
 */
import { EventLog, type LogHealth } from '../../server/storage/event-log.js';

const file = process.argv[2]!;
const changes: LogHealth[] = [];
const log = new EventLog(file, { maxPending: 500, onHealth: (health) => changes.push(health) });
const padding = 'x'.repeat(1000);
let recorded = 0;
const started = performance.now();
let worstFlushMs = 0;
for (let round = 0; round < 400; round++) {
  for (let k = 0; k < 20; k++, recorded++)
    log.record({
      type: 'stream-status',
      stream: 'stage',
      state: 'live',
      detail: padding,
      segments: recorded,
      skippedHops: 0,
    });
  const before = performance.now();
  log.flush();
  worstFlushMs = Math.max(worstFlushMs, performance.now() - before);
  if (changes.length > 0 && round > 0 && recorded > 2000) break;
}
console.log(
  JSON.stringify({
    recorded,
    changes,
    health: log.health(),
    worstFlushMs,
    seconds: (performance.now() - started) / 1000,
  }),
);
