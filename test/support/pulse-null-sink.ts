/**
 * A PulseAudio null sink: music played into it (paplay) comes out of its monitor source, a real
 * capture device for the microphone and camera tests. Starts the PulseAudio daemon if needed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NullSink {
  readonly name: string;
  /** The source that records what the sink plays. */
  readonly monitor: string;
  play(wav: string): ChildProcess;
  unload(): Promise<void>;
}

export async function loadNullSink(name: string): Promise<NullSink> {
  await run('pulseaudio', ['--check']).catch(() =>
    run('pulseaudio', ['--start', '--exit-idle-time=-1']),
  );
  const moduleId = (
    await run('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`])
  ).stdout.trim();
  return {
    name,
    monitor: `${name}.monitor`,
    play: (wav) => spawn('paplay', [`--device=${name}`, wav]),
    unload: () => run('pactl', ['unload-module', moduleId]).then(() => undefined),
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
