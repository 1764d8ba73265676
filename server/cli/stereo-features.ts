/**
 * OUT/features/stereo.npy (videos × segments × 2 × 64): each segment's mel-band power per channel
 * (stereo-bands.ts), in features.json's video order — the head's `stereo` input. Decoded from the
 * videos themselves, so it can be added beside features extracted before it existed. Through a
 * room (`degrade`), each channel takes the chain with the draws the mono front-end took for that
 * video (the same settings, and the same noise in both channels).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NpyWriter } from '../datasets/npy-writer.js';
import { STEREO_BANDS, STEREO_CHANNELS, stereoBands } from '../features/audio/stereo-bands.js';
import { SEGMENT_SAMPLES } from '../features/segment-frontend.js';
import { decodeStereoAudio } from '../sources/decode-media-file.js';
import { degradeClip } from '../evaluation/degrade-clip.js';
import type { Degradation } from '../evaluation/room-degradations.js';
import { Random } from '../synth/random.js';
import { Progress } from './progress.js';

export interface StereoDegrade {
  readonly kinds: readonly Degradation[];
  readonly seed: number;
}

export async function writeStereoFeatures(
  dataset: string,
  featuresDir: string,
  degrade?: StereoDegrade,
): Promise<void> {
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
  const decode = async (video: string, index: number) => {
    const clean = await decodeStereoAudio(path.join(dataset, 'videos', `${video}.mp4`));
    return degrade ? degradeChannels(clean, degrade, index) : clean;
  };
  let next = decode(videos[0]!, 0);
  for (const [k, video] of videos.entries()) {
    const { left, right } = await next;
    if (k + 1 < videos.length) next = decode(videos[k + 1]!, k + 1);
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

/** Both channels of video `index` through the room, each with the draws the mono path took. */
export async function degradeChannels(
  { left, right }: { left: Float32Array; right: Float32Array },
  { kinds, seed }: StereoDegrade,
  index: number,
): Promise<{ left: Float32Array; right: Float32Array }> {
  const through = async (channel: Float32Array) =>
    (await degradeClip(channel, kinds, 16_000, Random.forItem(seed, index))).samples;
  const [degradedLeft, degradedRight] = await Promise.all([through(left), through(right)]);
  return { left: degradedLeft, right: degradedRight };
}
