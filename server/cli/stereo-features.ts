/**
 * OUT/features/stereo.npy (videos × segments × 2 × 64): each segment's mel-band power per channel
 * (stereo-bands.ts), in features.json's video order — the head's `stereo` input. Decoded from the
 * videos themselves, so it can be added beside features extracted before it existed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NpyWriter } from '../datasets/npy-writer.js';
import { STEREO_BANDS, STEREO_CHANNELS, stereoBands } from '../features/audio/stereo-bands.js';
import { SEGMENT_SAMPLES } from '../features/segment-frontend.js';
import { decodeStereoAudio } from '../sources/decode-media-file.js';
import { Progress } from './progress.js';

export async function writeStereoFeatures(dataset: string, featuresDir: string): Promise<void> {
  const { videos, segments } = JSON.parse(
    await readFile(path.join(featuresDir, 'features.json'), 'utf8'),
  ) as { videos: string[]; segments: number };
  const file = path.join(featuresDir, 'stereo.npy');
  const writer = await NpyWriter.create(file, 'Float32Array', [
    videos.length,
    segments,
    STEREO_CHANNELS,
    STEREO_BANDS,
  ]);
  const progress = new Progress('extract stereo', videos.length, 'videos');
  const started = performance.now();
  const decode = (video: string) => decodeStereoAudio(path.join(dataset, 'videos', `${video}.mp4`));
  let next = decode(videos[0]!);
  for (const [k, video] of videos.entries()) {
    const { left, right } = await next;
    if (k + 1 < videos.length) next = decode(videos[k + 1]!);
    if (left.length < segments * SEGMENT_SAMPLES)
      throw new Error(
        `${video}: ${left.length / SEGMENT_SAMPLES} s of audio; features have ${segments} s`,
      );
    for (let s = 0; s < segments; s++) {
      const span = [s * SEGMENT_SAMPLES, (s + 1) * SEGMENT_SAMPLES] as const;
      await writer.append(stereoBands(left.subarray(...span), right.subarray(...span)));
    }
    progress.update(k + 1);
  }
  await writer.close();
  console.log(
    `extract: stereo bands of ${videos.length} videos × ${segments} s → ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
