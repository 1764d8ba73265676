/**
 * Where a sound stands, from the source to the head's input: ffmpeg gives each 20 ms of mono
 * (its own downmix, unchanged) with the same 20 ms of both channels; segments carry them; the
 * inference worker makes each segment's band power per channel, which the window carries.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { StandingQuestions } from '../server/answers/standing-questions.js';
import { InferenceClient } from '../server/encoders/inference-client.js';
import type { WindowBatch } from '../server/encoders/qstar-answerer.js';
import type { SegmentFeatures } from '../server/encoders/segment-encoders.js';
import { runStream } from '../server/pipeline/stream-pipeline.js';
import { toSegments } from '../server/segments/to-segments.js';
import { decodeAudio } from '../server/sources/decode-media-file.js';
import { mediaFileSource, type SourceEvent } from '../server/sources/media-file-source.js';
import { isSegmentList, layOutWindow } from '../server/windows/feature-window.js';
import { repoPath } from './support/run-cli.js';

const FRAME = { width: 4, height: 2, data: new Uint8Array(24) };
const FRAME_64 = { width: 64, height: 36, data: new Uint8Array(64 * 36 * 3) };
const energy = (x: Float32Array) => x.reduce((sum, v) => sum + v * v, 0);

describe('stereo from the source to the segments', () => {
  let file = '';
  beforeAll(() => {
    // 440 Hz on the left only, 2 s, with a picture.
    file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-stereo-')), 'left.mkv');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'color=black:size=64x36:rate=2:duration=2'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2:sample_rate=16000'],
      ...['-filter_complex', '[1:a]pan=stereo|c0=c0|c1=0*c0[a]', '-map', '0:v', '-map', '[a]'],
      ...['-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-shortest', file],
    ]);
  });

  it('each audio chunk carries both channels; the mono samples are ffmpeg downmix as before', async () => {
    const events = await lastValueFrom(mediaFileSource(file).pipe(toArray()));
    const audio = events.filter(
      (e): e is Extract<SourceEvent, { kind: 'audio' }> => e.kind === 'audio',
    );
    expect(audio.length).toBeGreaterThan(90);
    for (const chunk of audio) {
      expect(chunk.channels?.[0].length).toBe(chunk.samples.length);
      expect(chunk.channels?.[1].length).toBe(chunk.samples.length);
    }
    const left = audio.reduce((sum, e) => sum + energy(e.channels![0]), 0);
    const right = audio.reduce((sum, e) => sum + energy(e.channels![1]), 0);
    expect(left).toBeGreaterThan(1000 * Math.max(right, 1e-9));
    const mono = await decodeAudio(file);
    const streamed = Float32Array.from(audio.flatMap((e) => Array.from(e.samples)));
    expect(Array.from(streamed)).toEqual(Array.from(mono.subarray(0, streamed.length)));
  });

  it('segments carry the channels; a chunk without them counts as centred', async () => {
    const samples = (value: number) => new Float32Array(8000).fill(value);
    const events: SourceEvent[] = [
      { kind: 'frame', time: 0.5, frame: FRAME },
      { kind: 'audio', time: 0, samples: samples(0.1), channels: [samples(0.2), samples(0)] },
      { kind: 'audio', time: 0.5, samples: samples(0.3) },
      { kind: 'frame', time: 1.5, frame: FRAME },
      { kind: 'audio', time: 1, samples: samples(0.1) },
      { kind: 'audio', time: 1.5, samples: samples(0.1) },
    ];
    const [first, second] = await lastValueFrom(from(events).pipe(toSegments(), toArray()));
    const [left, right] = first!.channels!;
    expect([left[0], right[0], left[8000], right[8000]]).toEqual([
      Math.fround(0.2),
      0,
      Math.fround(0.3),
      Math.fround(0.3),
    ]);
    expect(second!.channels![0][0]).toBe(Math.fround(0.1));
    const monoOnly = await firstValueFrom(
      from([
        { kind: 'frame', time: 0.5, frame: FRAME },
        { kind: 'audio', time: 0, samples: new Float32Array(16000) },
      ] as SourceEvent[]).pipe(toSegments()),
    );
    expect(monoOnly.channels).toBeUndefined();
  });

  it("puts each segment's band power per channel, made in the inference worker, into the window the head answers on", async () => {
    const worker = await InferenceClient.start({
      profile: repoPath('models', 'tiny'),
      variant: 'full',
    });
    const windows: WindowBatch[] = [];
    // The worker as it is, watched: which windows the head is asked to answer on.
    const inference = Object.assign(Object.create(worker) as InferenceClient, {
      answer: (window: WindowBatch | readonly SegmentFeatures[], ids: number[][]) => {
        windows.push(isSegmentList(window) ? layOutWindow(window) : window);
        return worker.answer(window, ids);
      },
    });
    try {
      const questions = new StandingQuestions();
      questions.add('Is the instrument on the left louder than the instrument on the right?');
      const stream = runStream('left', mediaFileSource(file), inference, questions, {
        windowSeconds: 2,
        hopSeconds: 1,
        patchGrid: [1, 8],
      });
      await lastValueFrom(stream.pipe(toArray()));
    } finally {
      await worker.close();
    }
    const last = windows.at(-1)!;
    expect(last.segments).toBeGreaterThan(0);
    expect(last.stereo).toHaveLength(last.segments * 2 * 64);
    const left = last.stereo!.subarray(0, 64).reduce((a, b) => a + b, 0);
    const right = last.stereo!.subarray(64, 128).reduce((a, b) => a + b, 0);
    expect(left).toBeGreaterThan(1000 * right);
    // A channel that is not a segment's worth is refused in the worker, saying why.
    await expect(
      InferenceClient.start({ profile: repoPath('models', 'tiny'), variant: 'full' }).then(
        async (client) => {
          try {
            const short = new Float32Array(100);
            return await client.encode(new Float32Array(16_000), FRAME_64, [short, short]);
          } finally {
            await client.close();
          }
        },
      ),
    ).rejects.toThrow(/a segment is 16000 samples/);
  }, 60_000);
});
