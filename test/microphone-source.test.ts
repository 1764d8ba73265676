/**
 * A real microphone path: PortAudio (naudiodon) records from PulseAudio, whose default source is
 * the monitor of a null sink that FluidSynth-rendered music is played into.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSegments } from '../server/segments/to-segments.js';
import { microphoneSource } from '../server/sources/microphone-source.js';
import { repoPath } from './support/run-cli.js';

const run = promisify(execFile);
const SINK = 'tutti_mic_test';

describe('microphone source (naudiodon through PulseAudio)', () => {
  let moduleId = '';
  let music = '';

  beforeAll(async () => {
    await run('pulseaudio', ['--check']).catch(() =>
      run('pulseaudio', ['--start', '--exit-idle-time=-1']),
    );
    moduleId = (
      await run('pactl', ['load-module', 'module-null-sink', `sink_name=${SINK}`])
    ).stdout.trim();
    await run('pactl', ['set-default-source', `${SINK}.monitor`]);
    // Three seconds of the demo's FluidSynth-rendered piano and clarinet.
    music = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-mic-')), 'music.wav');
    await run('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-ss',
      '12',
      '-t',
      '4',
      '-i',
      repoPath('server/sources/demo/demo.mp4'),
      '-ac',
      '1',
      '-ar',
      '16000',
      music,
    ]);
  }, 30_000);

  afterAll(async () => {
    if (moduleId) await run('pactl', ['unload-module', moduleId]).catch(() => undefined);
  });

  it('records 20 ms chunks of 16 kHz audio, timestamped, loud where music plays, in segments', async () => {
    const player = spawn('paplay', [`--device=${SINK}`, music]);
    const events = await firstValueFrom(microphoneSource().pipe(take(150), toArray()));
    player.kill();
    const audio = events.filter((e) => e.kind === 'audio');
    expect(audio.length).toBeGreaterThan(100);
    for (const chunk of audio) expect(chunk.samples.length).toBe(320);
    audio.forEach((chunk, i) => expect(chunk.time).toBeCloseTo((i * 320) / 16_000, 6));
    let energy = 0;
    let count = 0;
    for (const chunk of audio) {
      for (const v of chunk.samples) energy += v * v;
      count += chunk.samples.length;
    }
    expect(Math.sqrt(energy / count)).toBeGreaterThan(0.005);
    expect(events.some((e) => e.kind === 'frame')).toBe(true);

    const segments = await firstValueFrom(
      microphoneSource().pipe(toSegments(), take(1), toArray()),
    );
    expect(segments[0]!.samples).toHaveLength(16_000);
  }, 30_000);
});
