/**
 * `npm run bench -- --profile DIR --streams 8,16,32 [--workers N]`: how many live streams the
 * inference workers carry in real time (issue #15 §6). Each simulated stream sends, once a second (the streams
 * spread evenly over the second), a 1 s segment with a camera frame to a worker — front-end and
 * encoders, batched across streams as the monitor does — and then asks its standing questions
 * over a 10 s window (one head call per stream and hop). The latency of a stream-second runs from
 * the moment its segment was due to its answers; a count is carried when its p99 is ≤ 1 s.
 * Counts are tried in turn and the ramp stops at the first one that is not carried.
 * `echo`: the workers compute nothing and answer at once with what the real worker answered once
 * (echo-inference-worker.ts): what the monitor's side alone carries, a ceiling for any GPU.
 */
import { InferencePool } from '../../server/encoders/inference-pool.js';
import type { WorkerInit } from '../../server/encoders/inference-protocol.js';
import type { Echo } from './echo-inference-worker.js';
import { questionTokenizer, readManifest } from '../../server/encoders/model-manifest.js';
import { FeatureWindow } from '../../server/windows/feature-window.js';
import type { SegmentFeatures } from '../../server/encoders/segment-encoders.js';
import { patternImage } from '../support/pattern-image.js';
import { BENCH_QUESTIONS } from './bench-questions.js';

export interface StreamsOptions {
  readonly counts: readonly number[];
  /** Seconds each count runs, the first WARMUP_SECONDS of them not counted. */
  readonly seconds?: number;
  readonly frameWidth?: number;
  readonly frameHeight?: number;
  /** Inference workers (TUTTI_INFERENCE_WORKERS), default 1. */
  readonly workers?: number;
  /** Workers that echo the real worker's first answers instead of computing (see above). */
  readonly echo?: boolean;
}

const ECHO_WORKER = new URL('./echo-inference-worker.mjs', import.meta.url);

const WARMUP_SECONDS = 3;
const WINDOW_SEGMENTS = 10;
const REAL_TIME_P99_MS = 1000;

export interface StreamsRun {
  readonly streams: number;
  readonly streamSeconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly carried: boolean;
  /** Why stream-seconds failed, if some did. */
  readonly failed?: string;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** A stream's window of WINDOW_SEGMENTS segments shaped like `features`. */
export function streamWindow(features: SegmentFeatures): FeatureWindow {
  const window = new FeatureWindow(WINDOW_SEGMENTS);
  for (let t = 0; t < WINDOW_SEGMENTS; t++) window.push(t, t, features);
  return window;
}

export async function benchStreams(directory: string, options: StreamsOptions) {
  const seconds = options.seconds ?? 12;
  const width = options.frameWidth ?? 1280;
  const height = options.frameHeight ?? 720;
  const manifest = readManifest(directory);
  const workers = options.workers ?? 1;
  const init = { profile: directory, variant: 'full' };
  let client = await InferencePool.start(init, {}, options.echo ? 1 : workers);
  const samples = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / 7));
  const frame = { width, height, data: patternImage(width, height) };
  const tokenize = questionTokenizer(manifest);
  const questions = BENCH_QUESTIONS.map(tokenize);
  const { features, spectrogram } = await client.encode(samples, frame);
  const window = streamWindow(features);
  if (options.echo) {
    const answered = await client.answer(window.segments(), questions);
    await client.close();
    const echo: Echo = { features, spectrogram, answered: { ...answered, rows: questions.length } };
    client = await InferencePool.start(
      { ...init, echo } as WorkerInit,
      { workerUrl: ECHO_WORKER },
      workers,
    );
  }
  // As the monitor does: each hop's window sent as its segments (shared memory), laid out by the
  // worker.
  const streamSecond = async () => {
    await client.encode(samples, frame);
    await client.answer(window.segments(), questions);
  };
  // Warm-up: kernels, allocators, every worker.
  await Promise.all(Array.from({ length: 3 * workers }, () => streamSecond()));

  const runs: StreamsRun[] = [];
  for (const streams of options.counts) {
    const latencies: number[] = [];
    const failures = new Set<string>();
    const start = performance.now() + 50;
    const work: Promise<void>[] = [];
    for (let second = 0; second < seconds; second++)
      for (let stream = 0; stream < streams; stream++) {
        const due = start + second * 1000 + (stream * 1000) / streams;
        // A stream-second that failed (a worker restarted: it held requests too long) was never
        // answered: it counts as later than any, so the count is not carried.
        work.push(
          new Promise<void>((resolve) =>
            setTimeout(
              () =>
                streamSecond().then(
                  () => {
                    if (second >= WARMUP_SECONDS) latencies.push(performance.now() - due);
                    resolve();
                  },
                  (error: Error) => {
                    failures.add(error.message);
                    if (second >= WARMUP_SECONDS) latencies.push(Number.POSITIVE_INFINITY);
                    resolve();
                  },
                ),
              Math.max(0, due - performance.now()),
            ),
          ),
        );
      }
    await Promise.all(work);
    latencies.sort((a, b) => a - b);
    const run = {
      streams,
      streamSeconds: latencies.length,
      p50Ms: Math.round(quantile(latencies, 0.5)),
      p99Ms: Math.round(quantile(latencies, 0.99)),
      maxMs: Math.round(latencies.at(-1) ?? Number.NaN),
      carried: quantile(latencies, 0.99) <= REAL_TIME_P99_MS,
      ...(failures.size > 0 && { failed: [...failures].join('; ') }),
    };
    runs.push(run);
    console.log(
      `${streams} streams: p50 ${run.p50Ms.toFixed(0)} ms, p99 ${run.p99Ms.toFixed(0)} ms${run.carried ? '' : ' (not carried)'}${run.failed ? `; failed: ${run.failed}` : ''}`,
    );
    if (!run.carried) break;
  }
  const provider = options.echo ? 'none (echo workers)' : client.provider;
  const audioFrontend = client.audioFrontend;
  const picturesFrontend = client.picturesFrontend;
  const busySeconds = client.usage().busySeconds;
  await client.close();
  const carried = runs.filter((run) => run.carried).map((run) => run.streams);
  return {
    profile: manifest.profile,
    provider,
    workers,
    audioFrontend,
    picturesFrontend,
    frame: `${width}×${height}`,
    secondsPerCount: seconds,
    warmupSeconds: WARMUP_SECONDS,
    runs,
    streamsAtRealTime: carried.length ? Math.max(...carried) : 0,
    workerBusySeconds: busySeconds,
  };
}

export function printStreams(result: Awaited<ReturnType<typeof benchStreams>>): void {
  console.log(
    `\nStreams at real time (${result.profile}, ${result.provider}, ${result.workers} worker(s), audio front-end ${result.audioFrontend}, pictures ${result.picturesFrontend}, ${result.frame} frames)`,
  );
  console.table(result.runs);
  console.log(`carried with p99 ≤ 1 s: ${result.streamsAtRealTime} streams`);
}
