/**
 * The front-end as ONNX graphs (issue #15 §3) against the TypeScript front-end, the reference:
 * the same AST fbank and VGGish log-mel within 1e-3 (measured: ≤ 6e-5), the tiny encoders'
 * outputs on either within 1e-3; the pictures graph gives Pillow's bytes, so the same inputs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../server/encoders/model-manifest.js';
import { InferenceClient } from '../server/encoders/inference-client.js';
import {
  SegmentEncoders,
  stackSegments,
  type SegmentFeatures,
} from '../server/encoders/segment-encoders.js';
import {
  AUDIO_FRONTEND_GRAPH,
  AudioFrontendGraph,
} from '../server/features/audio-frontend-graph.js';
import {
  PICTURES_FRONTEND_GRAPH,
  PicturesFrontendGraph,
} from '../server/features/pictures-frontend-graph.js';
import { picturesFrontendChoice } from '../server/features/pictures-frontend-choice.js';
import {
  SEGMENT_SAMPLES,
  segmentFrontend,
  segmentPixels,
} from '../server/features/segment-frontend.js';
import { CLIP_PREPROCESSING, normalisePixels } from '../server/features/video/clip-preprocess.js';
import { patternImage } from './support/frontend-fixtures.js';
import { decodeAudio } from '../server/sources/decode-media-file.js';
import { repoPath, runPython } from './support/run-cli.js';

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Music from the demo, then silence, a whisper of noise and a clipped square wave. */
async function segments(): Promise<Float32Array[]> {
  const demo = await decodeAudio(repoPath('server/sources/demo/demo.mp4'));
  const music = [0, 3, 6].map((s) => demo.slice(s * SEGMENT_SAMPLES, (s + 1) * SEGMENT_SAMPLES));
  let state = 9;
  const noise = Float32Array.from({ length: SEGMENT_SAMPLES }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 1e-4;
  });
  const square = Float32Array.from({ length: SEGMENT_SAMPLES }, (_, i) =>
    Math.sin((2 * Math.PI * 97 * i) / 16_000) >= 0 ? 1 : -1,
  );
  return [...music, new Float32Array(SEGMENT_SAMPLES), noise, square];
}

describe('the audio front-end as an ONNX graph', () => {
  const manifest = readManifest(repoPath('models/tiny'));
  const blank = { width: 2, height: 2, data: new Uint8Array(12) };
  let graph: AudioFrontendGraph;
  let inputs: Float32Array[];

  beforeAll(async () => {
    graph = await AudioFrontendGraph.load({ choice: 'cpu' });
    inputs = await segments();
  });
  afterAll(() => graph.release());

  it('gives the TypeScript front-end’s fbank and log-mel for a batch, within 1e-3', async () => {
    const batch = new Float32Array(inputs.length * SEGMENT_SAMPLES);
    inputs.forEach((samples, i) => batch.set(samples, i * SEGMENT_SAMPLES));
    const out = await graph.run(batch, inputs.length);
    inputs.forEach((samples, i) => {
      const reference = segmentFrontend(samples, blank, manifest.frontend);
      const fbank = reference.fbank.length;
      const logMel = reference.logMel.length;
      const at = (data: Float32Array, size: number) => data.subarray(i * size, (i + 1) * size);
      expect(maxDifference(at(out.fbank, fbank), reference.fbank), `fbank ${i}`).toBeLessThan(1e-3);
      expect(maxDifference(at(out.logMel, logMel), reference.logMel), `log-mel ${i}`).toBeLessThan(
        1e-3,
      );
    });
  });

  it('feeds the encoders the same: their outputs within 1e-3', async () => {
    const encoders = await SegmentEncoders.load(manifest, { choice: 'cpu' });
    try {
      const count = inputs.length;
      const reference = inputs.map((samples) => segmentFrontend(samples, blank, manifest.frontend));
      const stacked = stackSegments(reference);
      const samples = new Float32Array(count * SEGMENT_SAMPLES);
      inputs.forEach((segment, i) => samples.set(segment, i * SEGMENT_SAMPLES));
      const fromGraph = await graph.run(samples, count);
      const [typescript, onnx] = await Promise.all([
        encoders.encode(stacked),
        encoders.encode({ ...stacked, fbank: fromGraph.fbank, logMel: fromGraph.logMel }),
      ]);
      expect(maxDifference(onnx.audio.data, typescript.audio.data)).toBeLessThan(1e-3);
      expect(maxDifference(onnx.ast.data, typescript.ast.data)).toBeLessThan(1e-3);
    } finally {
      await encoders.release();
    }
  });

  it('refuses a batch whose samples do not make whole segments', async () => {
    await expect(graph.run(new Float32Array(SEGMENT_SAMPLES + 1), 1)).rejects.toThrow(
      /1 segments need 16000 samples, got 16001/,
    );
  });

  it('both graphs are what models/qstar/export.py frontend writes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-frontend-'));
    try {
      await runPython(['models/qstar/export.py', 'frontend', dir]);
      for (const [file, committed] of [
        ['audio-frontend.onnx', AUDIO_FRONTEND_GRAPH],
        ['pictures-frontend.onnx', PICTURES_FRONTEND_GRAPH],
      ] as const)
        expect(readFileSync(path.join(dir, file)).equals(readFileSync(committed)), file).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Starts tiny-profile workers with `variable` set as asked (restored after the describe). */
function workersWith(variable: string) {
  const before = process.env[variable];
  afterAll(() => {
    if (before === undefined) delete process.env[variable];
    else process.env[variable] = before;
  });
  return (choice: string) => {
    process.env[variable] = choice; // a worker takes the environment it starts with
    return InferenceClient.start({ profile: repoPath('models/tiny'), variant: 'full', threads: 1 });
  };
}

describe('the inference worker’s audio front-end (TUTTI_FRONTEND)', () => {
  const start = workersWith('TUTTI_FRONTEND');

  it('runs the graph by default and TypeScript when told, encoding a segment alike', async () => {
    const [samples] = await segments();
    const frame = { width: 320, height: 180, data: new Uint8Array(320 * 180 * 3).fill(90) };
    const encoded: SegmentFeatures[] = [];
    for (const [choice, runs] of [
      ['auto', 'graph on cpu'],
      ['typescript', 'typescript'],
    ] as const) {
      const client = await start(choice);
      try {
        expect(client.audioFrontend).toBe(runs);
        encoded.push((await client.encode(samples!, frame)).features);
        // A segment of the wrong length fails alone, with the reason.
        await expect(client.encode(new Float32Array(100), frame)).rejects.toThrow(
          /a segment is 16000 samples \(1 s at 16 kHz\), got 100/,
        );
      } finally {
        await client.close();
      }
    }
    const [graph, typescript] = encoded as [SegmentFeatures, SegmentFeatures];
    expect(maxDifference(graph.audio.data, typescript.audio.data)).toBeLessThan(1e-3);
    expect(maxDifference(graph.ast.data, typescript.ast.data)).toBeLessThan(1e-3);
    expect(maxDifference(graph.frame.data, typescript.frame.data)).toBe(0);
  }, 60_000);

  it('refuses an unknown choice at start, naming the choices', async () => {
    await expect(start('gpu')).rejects.toThrow(
      /TUTTI_FRONTEND must be auto, typescript or graph, not "gpu"/,
    );
  });
});

describe('the inference worker’s picture front-end (TUTTI_PICTURES_FRONTEND)', () => {
  const start = workersWith('TUTTI_PICTURES_FRONTEND');

  it('keeps TypeScript by default; the graph, asked for, encodes frames of mixed sizes in one batch alike', async () => {
    const [samples] = await segments();
    const frames = [
      { width: 320, height: 180, data: patternImage(320, 180) },
      { width: 641, height: 359, data: patternImage(641, 359) },
      { width: 320, height: 180, data: patternImage(320, 180).reverse() },
    ];
    const encoded: SegmentFeatures[][] = [];
    for (const [choice, runs] of [
      ['auto', 'typescript'],
      ['graph', 'graph on cpu'],
    ] as const) {
      const client = await start(choice);
      try {
        expect(client.picturesFrontend).toBe(runs);
        // Sent together, so the graph's batch holds two sizes.
        encoded.push(
          (await Promise.all(frames.map((frame) => client.encode(samples!, frame)))).map(
            (reply) => reply.features,
          ),
        );
        await expect(
          client.encode(samples!, { width: 4, height: 4, data: new Uint8Array(5) }),
        ).rejects.toThrow(/4×4/);
      } finally {
        await client.close();
      }
    }
    const [typescript, graph] = encoded as [SegmentFeatures[], SegmentFeatures[]];
    for (let i = 0; i < frames.length; i++) {
      expect(maxDifference(graph[i]!.frame.data, typescript[i]!.frame.data)).toBeLessThan(1e-5);
      expect(maxDifference(graph[i]!.patches.data, typescript[i]!.patches.data)).toBeLessThan(1e-5);
    }
    expect(maxDifference(graph[0]!.frame.data, graph[2]!.frame.data)).toBeGreaterThan(1e-3);
  }, 60_000);

  it('measures both where asked (auto does off the CPU) and keeps the faster: on this CPU TypeScript', async () => {
    const client = await start('measure');
    try {
      const said =
        /^typescript \(measured on a 1280×720 frame: graph on cpu ([\d.]+) ms, TypeScript ([\d.]+) ms\)$/.exec(
          client.picturesFrontend,
        );
      expect(said, client.picturesFrontend).not.toBeNull();
      expect(Number(said![1])).toBeGreaterThan(Number(said![2]));
    } finally {
      await client.close();
    }
    expect(picturesFrontendChoice('cpu', 'auto')).toBe('typescript');
    expect(picturesFrontendChoice('cuda', 'auto')).toBe('measure');
    expect(picturesFrontendChoice('webgpu', 'auto')).toBe('measure');
    expect(picturesFrontendChoice('cuda', 'typescript')).toBe('typescript');
    expect(picturesFrontendChoice('cpu', 'graph')).toBe('graph');
  }, 60_000);

  it('refuses an unknown choice at start, naming the choices', async () => {
    await expect(start('gpu')).rejects.toThrow(
      /TUTTI_PICTURES_FRONTEND must be auto, typescript, graph or measure, not "gpu"/,
    );
  });
});

describe('the picture front-end as an ONNX graph', () => {
  const tiny = readManifest(repoPath('models/tiny')).frontend;
  const clip = { ...tiny, frameWidth: 224, frameHeight: 224, frameResize: 'centre-crop' as const };
  const cases = [
    ['CLIP, 1280×720', clip, 1280, 720],
    ['CLIP, portrait 360×640', clip, 360, 640],
    ['CLIP, upscaled 100×80', clip, 100, 80],
    ['tiny (squashed), 641×359', tiny, 641, 359],
  ] as const;
  let graph: PicturesFrontendGraph;
  beforeAll(async () => {
    graph = await PicturesFrontendGraph.load({ choice: 'cpu' });
  });
  afterAll(() => graph.release());

  for (const [name, spec, width, height] of cases) {
    it(`${name}: Pillow's bytes, normalised as the TypeScript path does (a batch of two)`, async () => {
      const frames = [0, 1].map((i) => ({
        width,
        height,
        data: i === 0 ? patternImage(width, height) : patternImage(width, height).reverse(),
      }));
      const image = await graph.run(frames, spec);
      const size = 3 * spec.frameWidth * spec.frameHeight;
      frames.forEach((frame, i) => {
        const reference = normalisePixels(
          segmentPixels(frame, spec),
          { ...CLIP_PREPROCESSING, mean: spec.mean, std: spec.std },
          spec.frameWidth,
          spec.frameHeight,
        );
        expect(maxDifference(image.subarray(i * size, (i + 1) * size), reference)).toBeLessThan(
          1e-6,
        );
      });
    });
  }

  it('refuses a batch of frames of different sizes', async () => {
    const frame = (w: number) => ({ width: w, height: 4, data: new Uint8Array(w * 12) });
    await expect(graph.run([frame(4), frame(5)], clip)).rejects.toThrow(
      /must share one size \(the first is 4×4\)/,
    );
  });
});
