/**
 * Predictions of a model profile served through onnxruntime-node (the monitor's own inference
 * path) on features written by `npm run extract`: each question is asked over its video's whole
 * window of segments.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ANSWERS, parseQuestion } from '../../shared/question-space/index.js';
import type { Annotation } from '../datasets/musicavqa-annotations.js';
import { readNpy, type NpyArray } from '../datasets/npy-reader.js';
import { questionTokenizer, readManifest } from '../encoders/model-manifest.js';
import { QStarAnswerer } from '../encoders/qstar-answerer.js';

const BATCH = 64;

function rows(array: NpyArray, indices: readonly number[]): Float32Array {
  const per = array.data.length / array.shape[0]!;
  const out = new Float32Array(indices.length * per);
  indices.forEach((video, i) =>
    out.set((array.data as Float32Array).subarray(video * per, (video + 1) * per), i * per),
  );
  return out;
}

export async function predictWithModel(
  annotations: readonly Annotation[],
  featuresDir: string,
  modelDir: string,
  variant: string,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<Map<number, string>> {
  const manifest = readManifest(modelDir);
  const info = JSON.parse(await readFile(path.join(featuresDir, 'features.json'), 'utf8')) as {
    videos: string[];
    segments: number;
  };
  const [frames, patches, audio, ast] = (await Promise.all(
    ['frames', 'patches', 'audio', 'ast'].map((n) => readNpy(path.join(featuresDir, `${n}.npy`))),
  )) as [NpyArray, NpyArray, NpyArray, NpyArray];
  // Stereo bands where extracted (clean features); else the head hears the features as mono.
  const stereoFile = path.join(featuresDir, 'stereo.npy');
  const stereo = existsSync(stereoFile) ? await readNpy(stereoFile) : undefined;
  const videoIndex = new Map(info.videos.map((id, i) => [id, i]));
  const answerer = await QStarAnswerer.load(manifest, variant);
  const tokenize = questionTokenizer(manifest);
  const predictions = new Map<number, string>();
  const segments = info.segments;
  const dims = {
    frame: frames.shape[2]!,
    patches: patches.shape[2]!,
    patch: patches.shape[3]!,
    audio: audio.shape[2]!,
    bands: ast.shape[2]!,
    ast: ast.shape[3]!,
  };
  try {
    for (let from = 0; from < annotations.length; from += BATCH) {
      const chunk = annotations.slice(from, from + BATCH);
      const videos = chunk.map((a) => {
        const index = videoIndex.get(a.videoId);
        if (index === undefined)
          throw new Error(
            `question ${a.questionId}: no features for video ${a.videoId} in ${featuresDir}`,
          );
        return index;
      });
      const { probabilities } = await answerer.answer(
        {
          batch: chunk.length,
          segments,
          frames: rows(frames, videos),
          patches: rows(patches, videos),
          audio: rows(audio, videos),
          ast: rows(ast, videos),
          segmentMask: new Uint8Array(chunk.length * segments).fill(1),
          ...(stereo && { stereo: rows(stereo, videos) }),
          dims,
        },
        chunk.map((a) => tokenize(parseQuestion(a.question, a.templateValues).sentence)),
      );
      chunk.forEach((a, b) => {
        const row = probabilities.subarray(b * ANSWERS.length, (b + 1) * ANSWERS.length);
        predictions.set(a.questionId, ANSWERS[row.indexOf(Math.max(...row))]!);
      });
      onProgress(from + chunk.length, annotations.length);
    }
  } finally {
    await answerer.release();
  }
  return predictions;
}
