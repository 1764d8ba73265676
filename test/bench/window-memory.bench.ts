/**
 * What a hop's window costs the monitor's thread at many streams, with the paper profile's sizes
 * (10 s of CLIP ViT-L/14 frames and patches, VGGish, AST base: 10.9 MB): laid out there in fresh
 * memory and handed over (the monitor until session 23), against sent as its segments, whose
 * features are in shared memory, for the worker to lay out in memory it uses again (now). A
 * worker that only lays out (or drops) the window stands in for the inference worker, so the
 * head's cost (not the point here) does not hide the thread's.
 */
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { distinctBuffers } from '../../server/encoders/inference-protocol.js';
import type { SegmentFeatures } from '../../server/encoders/segment-encoders.js';
import { FeatureWindow } from '../../server/windows/feature-window.js';

const SEGMENTS = 10;
const HOPS_PER_SECOND = 64;
const HOPS = 320;

// Lays a segment list out in arrays it keeps (as the inference worker does); drops a laid-out one.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const kept = new Map();
parentPort.on('message', (window) => {
  if (!Array.isArray(window)) return parentPort.postMessage(0);
  const start = performance.now();
  for (const name of ['frame', 'patches', 'audio', 'ast']) {
    const per = window[0][name].data.length;
    let out = kept.get(name);
    if (out?.length !== window.length * per) kept.set(name, (out = new Float32Array(window.length * per)));
    window.forEach((features, t) => out.set(features[name].data, t * per));
  }
  parentPort.postMessage(performance.now() - start);
});`;

/** A paper-sized window whose segments' features are in shared memory, as the workers make them. */
function paperWindow(): FeatureWindow {
  const window = new FeatureWindow(SEGMENTS);
  const filled = (dims: number[]) => {
    const length = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(new SharedArrayBuffer(length * 4)).fill(0.5);
    return { dims, data };
  };
  for (let t = 0; t < SEGMENTS; t++) {
    const features: SegmentFeatures = {
      frame: filled([1, 768]),
      patches: filled([1, 256, 1024]),
      audio: filled([1, 128]),
      ast: filled([1, 12, 768]),
    };
    window.push(t, t, features);
  }
  return window;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** HOPS windows at HOPS_PER_SECOND, each sent to the worker as `how` says. */
async function sendWindows(how: 'laid out here' | 'as segments') {
  const window = paperWindow();
  const worker = new Worker(WORKER, { eval: true });
  const layOut: number[] = [];
  worker.on('message', (ms: number) => how === 'as segments' && layOut.push(ms));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const sent: number[] = [];
  delay.enable();
  for (let hop = 0; hop < HOPS; hop++) {
    const start = performance.now();
    if (how === 'as segments') worker.postMessage(window.segments());
    else {
      const single = window.single();
      const { frames, patches, audio, ast } = single;
      worker.postMessage(single, distinctBuffers([frames, patches, audio, ast]));
    }
    sent.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 1000 / HOPS_PER_SECOND));
  }
  delay.disable();
  await worker.terminate();
  sent.sort((a, b) => a - b);
  layOut.sort((a, b) => a - b);
  return {
    window: how,
    sentMsP50: quantile(sent, 0.5),
    sentMsP99: quantile(sent, 0.99),
    sentMsMax: sent.at(-1)!,
    eventLoopDelayMsP99: delay.percentile(99) / 1e6,
    ...(layOut.length > 0 && { workerLayOutMsP50: quantile(layOut, 0.5) }),
  };
}

export async function benchWindowMemory() {
  const runs = [];
  // Alternated, twice, so a noisy stretch of the machine shows as disagreement between runs.
  for (const how of ['laid out here', 'as segments', 'laid out here', 'as segments'] as const)
    runs.push(await sendWindows(how));
  return { windowMB: 10.9, hopsPerSecond: HOPS_PER_SECOND, hops: HOPS, runs };
}

export function printWindowMemory(result: Awaited<ReturnType<typeof benchWindowMemory>>): void {
  console.log(
    `\na paper window (${result.windowMB} MB) sent from the monitor's thread (${result.hops} hops at ${result.hopsPerSecond} a second)`,
  );
  for (const run of result.runs)
    console.log(
      `  ${run.window.padEnd(14)} sent in ${run.sentMsP50.toFixed(2)} ms p50, ${run.sentMsP99.toFixed(2)} p99, ` +
        `${run.sentMsMax.toFixed(2)} max; event-loop delay p99 ${run.eventLoopDelayMsP99.toFixed(1)} ms` +
        (run.workerLayOutMsP50 === undefined
          ? ''
          : `; laid out by the worker in ${run.workerLayOutMsP50.toFixed(2)} ms p50`),
    );
}
