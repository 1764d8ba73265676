/** Large pictures are scaled by ffmpeg before they reach Node: a 4K file costs what a small one does. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fittedSize, mediaFileSource } from '../server/sources/media-file-source.js';

describe('large inputs', () => {
  it('fits any picture within 640 × 360, aspect kept, never enlarged', () => {
    expect(fittedSize({ width: 7680, height: 4320 })).toEqual({ width: 640, height: 360 });
    expect(fittedSize({ width: 1080, height: 1920 })).toEqual({ width: 202, height: 360 });
    expect(fittedSize({ width: 320, height: 180 })).toEqual({ width: 320, height: 180 });
  });

  it('delivers a 4K file’s frames at 640 × 360, with all its sound', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-4k-')), 'uhd.mkv');
    await promisify(execFile)('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=3840x2160:rate=2:duration=3'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:v', 'mpeg4', '-q:v', '20'],
      ...['-c:a', 'pcm_s16le', file],
    ]);
    const events = await lastValueFrom(mediaFileSource(file).pipe(toArray()));
    const frames = events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
    expect(frames.length).toBeGreaterThanOrEqual(5);
    for (const frame of frames) {
      expect([frame.width, frame.height]).toEqual([640, 360]);
      expect(frame.data.length).toBe(640 * 360 * 3);
    }
    const seconds =
      events.reduce((sum, e) => sum + (e.kind === 'audio' ? e.samples.length : 0), 0) / 16_000;
    expect(seconds).toBeCloseTo(3, 1);
  }, 60_000);
});
