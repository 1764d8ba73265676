/** Progress of long CLI runs: a bar rewritten in place on a terminal, plain lines elsewhere. */
import { describe, expect, it } from 'vitest';
import { Progress, progressLine } from '../server/cli/progress.js';

describe('progress', () => {
  it('shows the count, rate and time left, then the time taken', () => {
    expect(progressLine('extract', 250, 1000, 100, 'videos')).toBe(
      'extract [#####---------------] 250/1000 videos 2.5/s ETA 5.0 min',
    );
    expect(progressLine('synth', 1500, 1500, 90, 'scenes')).toBe(
      'synth [####################] 1500/1500 scenes 17/s done in 1.5 min',
    );
  });

  it('rewrites one line on a terminal, at most ten times a second, ending it when done', () => {
    const written: string[] = [];
    const progress = new Progress('eval', 3, 'questions', {
      isTTY: true,
      write: (t: string) => written.push(t),
    });
    progress.advance();
    progress.advance(); // within 100 ms of the last: not drawn
    progress.advance(); // done: always drawn
    expect(written).toHaveLength(2);
    expect(written.every((t) => t.startsWith('\r') && t.includes('\x1b[K'))).toBe(true);
    expect(written[1]).toMatch(/3\/3 questions .* done in .*\n$/);
  });

  it('prints plain lines, not control characters, where the output is not a terminal', () => {
    const written: string[] = [];
    const progress = new Progress('probe', 4, 'questions', { write: (t) => written.push(t) }, 0);
    for (let i = 0; i < 4; i++) progress.advance();
    expect(written).toHaveLength(4);
    expect(written.join('')).not.toContain('\r');
    expect(written.join('')).not.toContain('\x1b');
    expect(written.at(-1)).toMatch(/^probe \[#{20}\] 4\/4 questions/);
  });
});
