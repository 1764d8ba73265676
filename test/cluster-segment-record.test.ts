/**
 * Cluster mode (issue #13): what ingest publishes per segment — 16-bit audio and the frame as a
 * JPEG — read back by an inference node, and how much that changes what the tiny encoders see.
 */
import path from 'node:path';
import { firstValueFrom, skip, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeSegment, encodeSegment } from '../server/cluster/segment-record.js';
import { readManifest } from '../server/encoders/model-manifest.js';
import { SegmentEncoders, stackSegments } from '../server/encoders/segment-encoders.js';
import { segmentFrontend } from '../server/features/segment-frontend.js';
import { stereoBands } from '../server/features/audio/stereo-bands.js';
import { toSegments } from '../server/segments/to-segments.js';
import { mediaFileSource } from '../server/sources/media-file-source.js';
import { DEMO } from './support/demo-excerpt.js';

describe('segment records from ingest to inference', () => {
  it('carries a demo segment in under 60 KB; the encoders see its audio as sent, its picture nearly', async () => {
    // The tenth second: piano, clarinet and flute playing.
    const segment = await firstValueFrom(
      mediaFileSource(DEMO).pipe(toSegments(), skip(9), take(1)),
    );
    const endedAt = Date.UTC(2026, 10, 26, 20, 0, 0, 250);
    const record = await encodeSegment(segment, 95, endedAt);
    // Measured: 58,070 (32,028 of them header and audio, 512 the band power per channel).
    expect(record.byteLength).toBeLessThan(60_000);
    const back = await decodeSegment(record);
    expect([back.index, back.start, back.audioEndedAt]).toEqual([9, 9, endedAt]);
    // The demo is stereo: its band power per channel travels as computed at ingest.
    expect(Array.from(back.stereoBands!)).toEqual(Array.from(stereoBands(...segment.channels!)));
    const mono = await decodeSegment(await encodeSegment({ ...segment, channels: undefined }));
    expect(mono.stereoBands).toBeUndefined();
    expect(Array.from(mono.samples)).toEqual(Array.from(back.samples));
    expect(back.samples.length).toBe(segment.samples.length);
    let worst = 0;
    segment.samples.forEach(
      (value, i) => (worst = Math.max(worst, Math.abs(value - back.samples[i]!))),
    );
    expect(worst).toBeLessThanOrEqual(1 / 32767);
    expect([back.frame.width, back.frame.height]).toEqual([
      segment.frame.width,
      segment.frame.height,
    ]);
    let difference = 0;
    segment.frame.data.forEach((value, i) => (difference += Math.abs(value - back.frame.data[i]!)));
    expect(difference / segment.frame.data.length).toBeLessThan(3); // mean over 0…255 per channel
    // What the tiny encoders make of it: the same features, to within what JPEG and 16 bits change.
    const manifest = readManifest(path.join(process.cwd(), 'models', 'tiny'));
    const encoders = await SegmentEncoders.load(manifest, { providers: ['cpu'] });
    const features = async (s: typeof segment) =>
      encoders.encode(stackSegments([segmentFrontend(s.samples, s.frame, manifest.frontend)]));
    const [sent, received] = [await features(segment), await features(back)];
    for (const name of ['ast', 'audio', 'frame', 'patches'] as const) {
      let worst = 0;
      let scale = 0;
      sent[name].data.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - received[name].data[j]!));
        scale = Math.max(scale, Math.abs(v));
      });
      // Measured (JPEG quality 95): ast 0.3 %, audio 0.08 %, frame 1.6 %, patches 2.4 % of the
      // largest feature value.
      expect(worst / scale, name).toBeLessThan(name === 'ast' || name === 'audio' ? 0.005 : 0.04);
    }
    await encoders.release();
  }, 60_000);

  it('refuses what is not a record, saying why', async () => {
    await expect(decodeSegment(new Uint8Array(8))).rejects.toThrow(/truncated/);
    await expect(decodeSegment(new Uint8Array(64))).rejects.toThrow(/bad magic/);
    const segment = {
      index: 0,
      start: 0,
      samples: new Float32Array(16),
      frame: { width: 2, height: 2, data: new Uint8Array(12) },
    };
    const record = await encodeSegment(segment);
    await expect(decodeSegment(record.subarray(0, 40))).rejects.toThrow(/no frame/);
    const broken = record.slice();
    broken.fill(7, 20 + 32 + 10);
    await expect(decodeSegment(broken)).rejects.toThrow(/not a readable JPEG/);
  });
});
