/**
 * A real microphone path: PortAudio (naudiodon) records from PulseAudio, whose default source is
 * the monitor of a null sink that FluidSynth-rendered music is played into.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSegments } from '../server/segments/to-segments.js';
import { microphoneSource } from '../server/sources/microphone-source.js';
import { demoMusicWav } from './support/demo-excerpt.js';
import { loadNullSink, rms, type NullSink } from './support/pulse-null-sink.js';

const run = promisify(execFile);

describe('microphone source (naudiodon through PulseAudio)', () => {
  let sink: NullSink | undefined;
  let music = '';

  beforeAll(async () => {
    sink = await loadNullSink('tutti_mic_test');
    await run('pactl', ['set-default-source', sink.monitor]);
    // Four seconds of the demo's FluidSynth-rendered piano and clarinet.
    music = await demoMusicWav(4);
  }, 30_000);

  afterAll(() => sink?.unload());

  it('records 20 ms chunks of 16 kHz audio, timestamped, loud where music plays, in segments', async () => {
    const player = sink!.play(music);
    const events = await firstValueFrom(microphoneSource().pipe(take(150), toArray()));
    player.kill();
    const audio = events.filter((e) => e.kind === 'audio');
    expect(audio.length).toBeGreaterThan(100);
    for (const chunk of audio) expect(chunk.samples.length).toBe(320);
    audio.forEach((chunk, i) => expect(chunk.time).toBeCloseTo((i * 320) / 16_000, 6));
    expect(rms(audio)).toBeGreaterThan(0.005);
    expect(events.some((e) => e.kind === 'frame')).toBe(true);

    const segments = await firstValueFrom(
      microphoneSource().pipe(toSegments(), take(1), toArray()),
    );
    expect(segments[0]!.samples).toHaveLength(16_000);
  }, 30_000);
});
