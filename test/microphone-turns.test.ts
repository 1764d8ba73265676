/**
 * PortAudio's initialise and terminate must never overlap: naudiodon closes on a libuv thread, so
 * a microphone opened while another is still closing crashed CI (SIGSEGV in Pa_Initialize). A fake
 * binding whose close takes a while, as the real one's does, records every overlap.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';

const log: string[] = [];
let closing = 0;

vi.mock('naudiodon', () => ({
  SampleFormatFloat32: 1,
  AudioIO: class extends EventEmitter {
    constructor() {
      super();
      log.push(closing > 0 ? 'open while closing' : 'open');
    }
    start(): void {}
    async quit(): Promise<void> {
      log.push(closing > 0 ? 'close while closing' : 'close');
      closing++;
      await sleep(20);
      closing--;
    }
  },
}));

const { microphoneSource } = await import('../server/sources/microphone-source.js');

describe('microphone opens and closes (PortAudio) take turns', () => {
  it('opens none while another is closing, and closes one at a time', async () => {
    // Reopened at once, as a restarted stream or the real microphone test does.
    // Each is closed 60 ms after it was asked for: its open has had its turn by then.
    for (let i = 0; i < 3; i++) {
      const once = microphoneSource().subscribe();
      await sleep(60);
      once.unsubscribe();
    }
    // Two microphones at once, closed together.
    const [a, b] = [microphoneSource().subscribe(), microphoneSource().subscribe()];
    await sleep(60);
    a.unsubscribe();
    b.unsubscribe();
    // One closed before its open had its turn: it never opens.
    microphoneSource().subscribe().unsubscribe();
    await sleep(200);
    expect(log).toEqual([
      'open',
      'close',
      'open',
      'close',
      'open',
      'close',
      'open',
      'open',
      'close',
      'close',
    ]);
  });
});
