/**
 * The live pipeline's speed with the shipped tiny profile on this machine:
 * - cost of a hop for windows of 10, 30 and 60 s: encode the new segment + answer the standing
 *   questions over the window (must stay flat), against recomputing every segment of the window;
 * - latency from the end of a hop's audio to the answer on a WebSocket client (p50, p99);
 * - how many demo streams the monitor sustains in real time (no skipped segment or hop).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { StandingQuestions } from '../../server/answers/standing-questions.js';
import { readManifest } from '../../server/encoders/model-manifest.js';
import { QStarAnswerer } from '../../server/encoders/qstar-answerer.js';
import {
  SegmentEncoders,
  stackSegments,
  withStereo,
} from '../../server/encoders/segment-encoders.js';
import { stereoBands } from '../../server/features/audio/stereo-bands.js';
import { segmentFrontend } from '../../server/features/segment-frontend.js';
import { Monitor } from '../../server/monitor.js';
import { mediaFileSource } from '../../server/sources/media-file-source.js';
import { FeatureWindow } from '../../server/windows/feature-window.js';
import { serverMessageSchema } from '../../shared/protocol/messages.js';
import { REPO_ROOT } from '../support/musicavqa.js';
import { medianMs } from './measure.js';

const PROFILE = path.join(REPO_ROOT, 'models', 'tiny');
const DEMO = path.join(REPO_ROOT, 'server', 'sources', 'demo', 'demo.mp4');
const QUESTIONS = [
  'How many instruments are sounding in the video?',
  'Is there a flute sound?',
  'Is the clarinet louder than the piano?',
  'What is the first instrument that comes in?',
];

async function timeAsync(run: () => Promise<unknown>, repeats: number): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function hopCost() {
  const manifest = readManifest(PROFILE);
  const encoders = await SegmentEncoders.load(manifest);
  const answerer = await QStarAnswerer.load(manifest);
  const questions = new StandingQuestions();
  QUESTIONS.forEach((q) => questions.add(q));
  const ids = questions.list().map((q) => q.ids);
  const samples = Float32Array.from({ length: 16_000 }, (_, i) => 0.2 * Math.sin(i / 7));
  const frame = { width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(90) };
  const encodeOne = async () =>
    encoders.encode({ count: 1, ...segmentFrontend(samples, frame, manifest.frontend) });
  const right = Float32Array.from({ length: 16_000 }, (_, i) => 0.1 * Math.sin(i / 5));
  // Each segment's band power per channel, made in the inference worker beside the front-end.
  const stereoMs = medianMs(() => stereoBands(samples, right), 20, 5);
  const features = withStereo(await encodeOne(), stereoBands(samples, right));
  const frontendMs = medianMs(() => segmentFrontend(samples, frame, manifest.frontend), 20, 5);
  const results: Record<
    string,
    { encodeMs: number; headMs: number; incrementalMs: number; recomputeMs: number; ratio: number }
  > = {};
  for (const seconds of [10, 30, 60]) {
    const window = new FeatureWindow(seconds);
    for (let s = 0; s < seconds; s++) window.push(s, s, features);
    const answerMs = await timeAsync(() => answerer.answer(window.batch(ids.length), ids), 15);
    const encodeMs = await timeAsync(encodeOne, 15);
    const incrementalMs = encodeMs + answerMs;
    // Recomputing every segment of the window each hop instead of keeping their features.
    const recomputeMs = seconds * encodeMs + answerMs;
    results[`W = ${seconds} s`] = {
      encodeMs,
      headMs: answerMs,
      incrementalMs,
      recomputeMs,
      ratio: recomputeMs / incrementalMs,
    };
  }
  // One encoder call for the segments of many streams (the worker's BatchQueue) against a call each.
  const batching = [];
  const segment = segmentFrontend(samples, frame, manifest.frontend);
  for (const streams of [8, 16]) {
    const separateMs = await timeAsync(async () => {
      for (let i = 0; i < streams; i++) await encoders.encode(stackSegments([segment]));
    }, 7);
    const batchedMs = await timeAsync(
      () => encoders.encode(stackSegments(Array<typeof segment>(streams).fill(segment))),
      7,
    );
    batching.push({ streams, separateMs, batchedMs, speedup: separateMs / batchedMs });
  }
  await encoders.release();
  await answerer.release();
  return {
    questions: QUESTIONS.length,
    frontendMsPerSegment: frontendMs,
    stereoMsPerSegment: stereoMs,
    perWindow: results,
    batching,
    provider: encoders.provider,
  };
}

/** Runs `streams` demo streams for `seconds`; returns client-side latencies and skips. */
async function liveRun(streams: number, seconds: number) {
  const monitor = new Monitor({
    profile: PROFILE,
    host: '127.0.0.1',
    port: 0,
    token: 'bench',
    windowSeconds: 10,
    hopSeconds: 1,
    database: path.join(mkdtempSync(path.join(tmpdir(), 'tutti-bench-')), 'events.sqlite'),
    log: () => undefined,
    streams: Array.from({ length: streams }, (_, i) => ({
      id: `demo${i}`,
      source: () => mediaFileSource(DEMO, { realtime: true, loop: true }),
      questions: QUESTIONS,
    })),
  });
  await monitor.start();
  const socket = new WebSocket(`${monitor.url.replace('http', 'ws')}/ws`, {
    headers: { authorization: 'Bearer bench' },
  });
  const latencies: number[] = [];
  const answeredAt: number[] = [];
  socket.on('open', () => {
    for (let i = 0; i < streams; i++)
      socket.send(JSON.stringify({ type: 'subscribe', stream: `demo${i}` }));
  });
  socket.on('message', (data) => {
    const message = serverMessageSchema.parse(JSON.parse(data.toString()));
    if (message.type === 'answer') {
      latencies.push(Date.now() - message.audioEndedAt);
      answeredAt.push(message.audioEndedAt);
    }
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  socket.close();
  await monitor.stop();
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  // Kept up: over the last 10 s, every stream answered every question at every hop.
  const end = Math.max(...answeredAt);
  const recent = answeredAt.filter((t) => t > end - 10_000).length;
  const expected = streams * QUESTIONS.length * 10;
  return {
    streams,
    seconds,
    answersLast10s: recent,
    expectedLast10s: expected,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    keptUp: recent >= expected - streams * QUESTIONS.length,
  };
}

export async function benchPipeline() {
  const hops = await hopCost();
  const live = [];
  for (const streams of [1, 2, 4, 8, 12, 16]) {
    const run = await liveRun(streams, 20);
    live.push(run);
    if (!run.keptUp) break;
  }
  return {
    hops,
    live,
    sustainedStreams: Math.max(0, ...live.filter((r) => r.keptUp).map((r) => r.streams)),
  };
}

export function printPipeline(result: Awaited<ReturnType<typeof benchPipeline>>): void {
  console.log(
    `\nPipeline, tiny profile, ${result.hops.questions} standing questions (front-end ${result.hops.frontendMsPerSegment.toFixed(2)} ms per segment, stereo bands ${result.hops.stereoMsPerSegment.toFixed(2)} ms, made beside it in the worker):`,
  );
  console.table(
    Object.fromEntries(
      Object.entries(result.hops.perWindow).map(([w, r]) => [
        w,
        {
          'new segment (ms)': +r.encodeMs.toFixed(1),
          'head (ms)': +r.headMs.toFixed(1),
          'hop, incremental (ms)': +r.incrementalMs.toFixed(1),
          'hop, recompute all (ms)': +r.recomputeMs.toFixed(1),
          ratio: +r.ratio.toFixed(1),
        },
      ]),
    ),
  );
  console.log(
    `Encoding one segment per stream on ${result.hops.provider}: a call each vs one call:`,
  );
  console.table(
    result.hops.batching.map((r) => ({
      streams: r.streams,
      'a call each (ms)': +r.separateMs.toFixed(1),
      'one call (ms)': +r.batchedMs.toFixed(1),
      speed: `${r.speedup.toFixed(2)}×`,
    })),
  );
  console.log('Live demo streams (end of a hop’s audio → answer on a WebSocket client):');
  console.table(
    result.live.map((r) => ({
      streams: r.streams,
      'answers (last 10 s)': `${r.answersLast10s}/${r.expectedLast10s}`,
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      'kept up': r.keptUp,
    })),
  );
  console.log(`Streams sustained in real time: ${result.sustainedStreams}`);
}
