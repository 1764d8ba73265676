/**
 * Front-end speed on one core (the main thread): milliseconds per second of audio for each
 * audio front-end, per frame for CLIP preprocessing. Targets: audio ≥ 500× real time, CLIP
 * ≤ 5 ms per 1280×720 frame.
 */
import os from 'node:os';
import { astInput } from '../../server/features/audio/ast-input.js';
import { kaldiFbank } from '../../server/features/audio/kaldi-fbank.js';
import { createResampler } from '../../server/features/audio/resample.js';
import { vggishExamples, vggishLogMel } from '../../server/features/audio/vggish-log-mel.js';
import { AudioFrontendGraph } from '../../server/features/audio-frontend-graph.js';
import { PicturesFrontendGraph } from '../../server/features/pictures-frontend-graph.js';
import { readManifest } from '../../server/encoders/model-manifest.js';
import { repoPath } from '../support/run-cli.js';
import { clipPreprocess } from '../../server/features/video/clip-preprocess.js';
import { patternImage } from '../support/frontend-fixtures.js';
import { medianMs, medianMsAsync } from './measure.js';

const SECONDS = 10;

function noise(samples: number, seed = 1): Float32Array {
  let state = seed;
  return Float32Array.from({ length: samples }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 0.6;
  });
}

export async function benchFrontend() {
  const audio16k = noise(16_000 * SECONDS);
  const audio = {} as Record<string, { msPerSecond: number; realTimeFactor: number }>;
  const perSecond = (ms: number) => ({
    msPerSecond: ms / SECONDS,
    realTimeFactor: (SECONDS * 1000) / ms,
  });

  audio['AST fbank (128 mel, 16 kHz)'] = perSecond(medianMs(() => kaldiFbank(audio16k), 10, 3));
  audio['VGGish log-mel (64 mel, 16 kHz)'] = perSecond(
    medianMs(() => vggishLogMel(audio16k), 10, 3),
  );
  for (const [rate, channels] of [
    [48_000, 2],
    [44_100, 2],
    [48_000, 1],
  ] as const) {
    const input = noise(rate * channels * SECONDS, rate);
    const resampler = await createResampler({ inputRate: rate, channels });
    audio[`resample ${rate / 1000} kHz ${channels === 2 ? 'stereo' : 'mono'} → 16 kHz`] = perSecond(
      medianMs(() => resampler.push(input), 10, 3),
    );
    resampler.close();
  }

  const clip = {} as Record<string, { msPerFrame: number }>;
  for (const [width, height] of [
    [1280, 720],
    [1920, 1080],
    [640, 480],
  ] as const) {
    const frame = { width, height, data: patternImage(width, height) };
    clip[`${width}×${height} → 3×224×224`] = {
      msPerFrame: medianMs(() => clipPreprocess(frame), 30, 10),
    };
  }

  return {
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
    audio,
    clip,
    audioGraph: await benchAudioGraph(),
  };
}

/**
 * Both front-ends per 1 s segment: the TypeScript one (a segment at a time, one core) and the
 * ONNX graphs on the encoders' provider at several batch sizes (the CPU provider here).
 */
async function benchAudioGraph() {
  const segment = noise(16_000, 3);
  const perSegment: Record<string, { msPerSegment: number; provider: string }> = {
    'TypeScript (fbank + log-mel)': {
      msPerSegment: medianMs(
        () => (astInput(kaldiFbank(segment), 100), vggishExamples(vggishLogMel(segment))),
        20,
        5,
      ),
      provider: 'main thread',
    },
  };
  const graph = await AudioFrontendGraph.load();
  for (const batch of [1, 8, 32]) {
    const samples = new Float32Array(batch * 16_000);
    for (let i = 0; i < batch; i++) samples.set(segment, i * 16_000);
    perSegment[`ONNX graph, batch ${batch}`] = {
      msPerSegment: (await medianMsAsync(() => graph.run(samples, batch))) / batch,
      provider: graph.provider,
    };
  }
  await graph.release();
  const spec = { ...readManifest(repoPath('models/tiny')).frontend };
  const clip = { ...spec, frameWidth: 224, frameHeight: 224, frameResize: 'centre-crop' as const };
  const frame = { width: 1280, height: 720, data: patternImage(1280, 720) };
  perSegment['CLIP 1280×720, TypeScript (SIMD)'] = {
    msPerSegment: medianMs(() => clipPreprocess(frame), 20, 5),
    provider: 'main thread',
  };
  const pictures = await PicturesFrontendGraph.load();
  for (const batch of [1, 8]) {
    const frames = Array.from({ length: batch }, () => frame);
    perSegment[`CLIP 1280×720, ONNX graph, batch ${batch}`] = {
      msPerSegment: (await medianMsAsync(() => pictures.run(frames, clip), 10, 3)) / batch,
      provider: pictures.provider,
    };
  }
  await pictures.release();
  return perSegment;
}

export function printFrontend(result: Awaited<ReturnType<typeof benchFrontend>>): void {
  console.log('\nAudio front-ends (one core):');
  console.table(
    Object.fromEntries(
      Object.entries(result.audio).map(([name, v]) => [
        name,
        {
          'ms per s of audio': Number(v.msPerSecond.toFixed(3)),
          '× real time': Math.round(v.realTimeFactor),
        },
      ]),
    ),
  );
  console.log('Front-end per 1 s segment, TypeScript against the ONNX graphs:');
  console.table(
    Object.fromEntries(
      Object.entries(result.audioGraph).map(([name, v]) => [
        name,
        { 'ms per segment': Number(v.msPerSegment.toFixed(3)), provider: v.provider },
      ]),
    ),
  );
  console.log('CLIP preprocessing (one core):');
  console.table(
    Object.fromEntries(
      Object.entries(result.clip).map(([name, v]) => [
        name,
        { 'ms per frame': Number(v.msPerFrame.toFixed(2)) },
      ]),
    ),
  );
}
