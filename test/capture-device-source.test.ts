/**
 * A camera and microphone through ffmpeg's device inputs. No camera exists on CI machines, so the
 * picture comes from ffmpeg's lavfi test pattern (the same two-input path a V4L2 camera takes);
 * the sound is real capture: PulseAudio's monitor of a null sink FluidSynth music is played into.
 */
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureArgs,
  captureDeviceSource,
  parseCaptureInput,
} from '../server/sources/capture-device-source.js';
import { demoMusicWav } from './support/demo-excerpt.js';
import { loadNullSink, rms, type NullSink } from './support/pulse-null-sink.js';

describe('capture device source', () => {
  let sink: NullSink | undefined;
  let music = '';

  beforeAll(async () => {
    sink = await loadNullSink('tutti_camera_test');
    music = await demoMusicWav(4);
  }, 30_000);

  afterAll(() => sink?.unload());

  it('reads devices as "format:device", a bare path being the default format', () => {
    expect(parseCaptureInput('/dev/video2', 'v4l2')).toEqual({
      format: 'v4l2',
      device: '/dev/video2',
    });
    expect(parseCaptureInput('alsa:hw:1,0', 'pulse')).toEqual({ format: 'alsa', device: 'hw:1,0' });
    expect(parseCaptureInput('default', 'pulse')).toEqual({ format: 'pulse', device: 'default' });
    expect(
      captureArgs({
        video: { format: 'v4l2', device: '/dev/video0', options: ['-framerate', '30'] },
        audio: { format: 'pulse', device: 'default' },
      }),
    ).toEqual([
      '-thread_queue_size',
      '512',
      '-f',
      'v4l2',
      '-framerate',
      '30',
      '-i',
      '/dev/video0',
      '-thread_queue_size',
      '512',
      '-f',
      'pulse',
      '-i',
      'default',
    ]);
  });

  it('names a camera that is not there', async () => {
    await expect(
      firstValueFrom(
        captureDeviceSource({
          video: { format: 'v4l2', device: '/dev/video-tutti-none' },
          audio: { format: 'pulse', device: 'default' },
        }),
      ),
    ).rejects.toThrow('no camera at /dev/video-tutti-none');
  });

  it('gives one clock to the picture and the captured sound, letterboxed to 640×360', async () => {
    const player = sink!.play(music);
    const events = await firstValueFrom(
      captureDeviceSource({
        video: {
          format: 'lavfi',
          device: 'testsrc2=size=320x240:rate=15',
          options: ['-re'],
        },
        audio: { format: 'pulse', device: sink!.monitor },
      }).pipe(take(160), toArray()),
    );
    player.kill();
    const audio = events.flatMap((e) => (e.kind === 'audio' ? [e] : []));
    const frames = events.flatMap((e) => (e.kind === 'frame' ? [e] : []));
    expect(audio.length).toBeGreaterThan(100);
    for (const chunk of audio) expect(chunk.samples.length).toBe(320);
    expect(rms(audio)).toBeGreaterThan(0.005);
    // Two frames a second, interleaved with the audio on the same clock (not all at the end).
    expect(frames.length).toBeGreaterThanOrEqual(4);
    const audioEnd = audio.at(-1)!.time;
    expect(Math.abs(frames.at(-1)!.time - audioEnd)).toBeLessThan(1.5);
    const frame = frames.at(-1)!.frame;
    expect([frame.width, frame.height]).toEqual([640, 360]);
    // 320×240 in 640×360: black bars left and right, the pattern in the middle.
    const pixel = (x: number, y: number) => [
      ...frame.data.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3),
    ];
    expect(pixel(10, 180)).toEqual([0, 0, 0]);
    expect(pixel(320, 100).some((v) => v > 30)).toBe(true);
  }, 30_000);
});
