/**
 * Where the inference worker prepares frames (TUTTI_PICTURES_FRONTEND): the TypeScript SIMD resize
 * in the worker's own thread, or the ONNX graph on the encoders' provider (issue #15 §3: chosen
 * per provider by measurement). `auto` keeps TypeScript on the CPU provider, where it was measured
 * about twenty times cheaper than the graph (README, "Front-end speed"), and on any other provider
 * times both on a 1280×720 frame at start and keeps the faster; `measure` times them on any
 * provider; `typescript` and `graph` choose without timing.
 */
import type { ModelManifest } from '../encoders/model-manifest.js';
import type { ExecutionProvider, LoadOptions } from '../encoders/onnx-model.js';
import { medianMsAsync } from './median-ms.js';
import { PicturesFrontendGraph } from './pictures-frontend-graph.js';
import { segmentPixels } from './segment-frontend.js';
import { normalisePixels } from './video/clip-preprocess.js';
import type { RgbFrame } from './video/rgb-frame.js';

const CHOICES = ['auto', 'typescript', 'graph', 'measure'] as const;

/** TUTTI_PICTURES_FRONTEND, resolved for the encoders' provider. */
export function picturesFrontendChoice(
  provider: ExecutionProvider,
  value = process.env['TUTTI_PICTURES_FRONTEND'] ?? 'auto',
): 'typescript' | 'graph' | 'measure' {
  if (!(CHOICES as readonly string[]).includes(value))
    throw new Error(
      `TUTTI_PICTURES_FRONTEND must be ${CHOICES.slice(0, -1).join(', ')} or measure, not "${value}"`,
    );
  if (value === 'auto') return provider === 'cpu' ? 'typescript' : 'measure';
  return value as 'typescript' | 'graph' | 'measure';
}

/** A camera-sized frame with detail in it (the resize's cost does not depend on the content). */
function timingFrame(): RgbFrame {
  const width = 1280;
  const height = 720;
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, (_, i) => i * 7) };
}

export interface PicturesFrontend {
  /** The graph where it prepares frames; none for TypeScript. */
  readonly graph?: PicturesFrontendGraph;
  /** What the start line says, with the timings when they decided it. */
  readonly said: string;
}

/** Loads the graph where it is chosen or is to be timed; times both where asked to. */
export async function choosePicturesFrontend(
  provider: ExecutionProvider,
  spec: ModelManifest['frontend'],
  options: LoadOptions,
): Promise<PicturesFrontend> {
  const choice = picturesFrontendChoice(provider);
  if (choice === 'typescript') return { said: 'typescript' };
  const graph = await PicturesFrontendGraph.load(options);
  if (choice === 'graph') return { graph, said: `graph on ${graph.provider}` };
  const frame = timingFrame();
  // Median of 5 after one untimed call (the first sets things up).
  const typescriptMs = await medianMsAsync(
    () =>
      normalisePixels(
        segmentPixels(frame, spec),
        { size: 0, mean: spec.mean, std: spec.std },
        spec.frameWidth,
        spec.frameHeight,
      ),
    5,
    1,
  );
  const graphMs = await medianMsAsync(() => graph.run([frame], spec), 5, 1);
  const timings = `measured on a 1280×720 frame: graph on ${graph.provider} ${graphMs.toFixed(1)} ms, TypeScript ${typescriptMs.toFixed(1)} ms`;
  if (graphMs < typescriptMs) return { graph, said: `graph on ${graph.provider} (${timings})` };
  await graph.release();
  return { said: `typescript (${timings})` };
}
