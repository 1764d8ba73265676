/**
 * A PulseAudio null sink: music played into it (paplay) comes out of its monitor source, a real
 * capture device for the microphone and camera tests. Starts the PulseAudio daemon if needed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NullSink {
  readonly name: string;
  /** The source that records what the sink plays. */
  readonly monitor: string;
  play(wav: string): ChildProcess;
  unload(): Promise<void>;
}

const LOCK = path.join(tmpdir(), 'tutti-pulse-test.lock');

/**
 * One test file at a time uses PulseAudio: each sets the default source, and a crash of PortAudio
 * in CI (SIGSEGV in Pa_Initialize) was first put down to another file unloading its sink while
 * PortAudio enumerated devices. (A later one had another cause, now mended in the source: a
 * microphone reopened while the last was closing; test/microphone-turns.test.ts.) A directory
 * is the lock (mkdir is atomic); a lock whose holder died is taken over.
 */
async function lockPulse(): Promise<void> {
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      return;
    } catch {
      const holder = Number(
        (() => {
          try {
            return readFileSync(path.join(LOCK, 'pid'), 'utf8');
          } catch {
            return '0';
          }
        })(),
      );
      const alive = (() => {
        try {
          return holder > 0 && process.kill(holder, 0);
        } catch {
          return false;
        }
      })();
      if ((!alive && holder > 0) || Date.now() - started > 120_000)
        rmSync(LOCK, { recursive: true, force: true });
    }
  }
}

function unlockPulse(): void {
  rmSync(LOCK, { recursive: true, force: true });
}

export async function loadNullSink(name: string): Promise<NullSink> {
  await lockPulse();
  const moduleId = await (async () => {
    await run('pulseaudio', ['--check']).catch(() =>
      run('pulseaudio', ['--start', '--exit-idle-time=-1']),
    );
    return (
      await run('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`])
    ).stdout.trim();
  })().catch((error: unknown) => {
    unlockPulse();
    throw error;
  });
  return {
    name,
    monitor: `${name}.monitor`,
    play: (wav) => spawn('paplay', [`--device=${name}`, wav]),
    unload: () =>
      run('pactl', ['unload-module', moduleId]).then(
        () => unlockPulse(),
        (error: unknown) => {
          unlockPulse();
          throw error;
        },
      ),
  };
}

/** RMS of all the audio chunks' samples. */
export function rms(chunks: readonly { samples: Float32Array }[]): number {
  let energy = 0;
  let count = 0;
  for (const chunk of chunks) {
    for (const v of chunk.samples) energy += v * v;
    count += chunk.samples.length;
  }
  return Math.sqrt(energy / count);
}
