/**
 * What a stream stands at when it starts: the questions and alert rules it had when the monitor
 * last ran (added and removed ones included, from the event log), or else the configured ones.
 * A log that cannot be read, or an entry that no longer fits, is reported and skipped.
 */
import type { LiveStream } from '../pipeline/live-stream.js';
import type { EventLog } from '../storage/event-log.js';

export function restoreStanding(
  live: LiveStream,
  events: EventLog,
  log: (line: string) => void,
): void {
  const { id } = live.config;
  const latest = <T extends 'questions' | 'rules'>(type: T) => {
    try {
      return events.latest(id, type);
    } catch (error) {
      log(`stream ${id}: cannot read its logged ${type}: ${(error as Error).message}`);
      return undefined;
    }
  };

  const questions = latest('questions');
  if (questions) {
    const refused = live.questions.restore(questions.questions);
    log(`stream ${id}: ${questions.questions.length - refused.length} standing questions restored`);
    for (const reason of refused) log(`stream ${id}: cannot restore question ${reason}`);
  } else for (const question of live.config.questions ?? []) live.questions.add(question);

  const rules = latest('rules');
  if (rules) return live.rules.restore(rules.rules);
  for (const rule of live.config.rules ?? []) {
    try {
      live.rules.add(rule);
    } catch (error) {
      log(`stream ${id}: rule refused: ${(error as Error).message}`);
    }
  }
}
