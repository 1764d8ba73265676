/**
 * What making a hop's window costs the monitor's thread at many streams, with the paper
 * profile's sizes (10 s of CLIP ViT-L/14 frames and patches, VGGish, AST base: 10.9 MB): made in
 * fresh memory each hop, against memory the worker handed back (WindowBuffers). A worker that
 * hands each window straight back stands in for the inference worker, so the head's cost (not
 * the point here) does not hide the thread's.
 */
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { distinctBuffers } from '../../server/encoders/inference-protocol.js';
import type { WindowBatch } from '../../server/encoders/qstar-answerer.js';
import type { SegmentFeatures } from '../../server/encoders/segment-encoders.js';
import { FeatureWindow } from '../../server/windows/feature-window.js';
import { WindowBuffers } from '../../server/windows/window-buffers.js';

const SEGMENTS = 10;
const HOPS_PER_SECOND = 64;
const HOPS = 320;

const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (w) => {
  const spent = [w.frames, w.patches, w.audio, w.ast];
  parentPort.postMessage(spent, spent.map((a) => a.buffer));
});`;

function paperWindow(buffers: WindowBuffers): FeatureWindow {
  const window = new FeatureWindow(SEGMENTS, buffers);
  const filled = (dims: number[]) => ({
    dims,
    data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5),
  });
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

/** HOPS windows at HOPS_PER_SECOND, each made, handed to the worker, and its memory given back. */
async function makeWindows(keep: boolean) {
  const buffers = new WindowBuffers(keep ? undefined : 0);
  const window = paperWindow(buffers);
  const worker = new Worker(ECHO, { eval: true });
  worker.on('message', (spent: Float32Array[]) => buffers.giveBack(spent));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const made: number[] = [];
  let bytes = 0;
  delay.enable();
  for (let hop = 0; hop < HOPS; hop++) {
    const start = performance.now();
    const single: WindowBatch = window.single();
    const { frames, patches, audio, ast } = single;
    bytes = frames.byteLength + patches.byteLength + audio.byteLength + ast.byteLength;
    worker.postMessage(single, distinctBuffers([frames, patches, audio, ast]));
    made.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 1000 / HOPS_PER_SECOND));
  }
  delay.disable();
  await worker.terminate();
  made.sort((a, b) => a - b);
  return {
    memory: keep ? 'handed back' : 'fresh',
    windowMB: bytes / 1e6,
    madeMsP50: quantile(made, 0.5),
    madeMsP99: quantile(made, 0.99),
    madeMsMax: made.at(-1)!,
    eventLoopDelayMsP99: delay.percentile(99) / 1e6,
  };
}

export async function benchWindowMemory() {
  const runs = [];
  // Alternated, twice, so a noisy stretch of the machine shows as disagreement between runs.
  for (const keep of [false, true, false, true]) runs.push(await makeWindows(keep));
  return { hopsPerSecond: HOPS_PER_SECOND, hops: HOPS, runs };
}

export function printWindowMemory(result: Awaited<ReturnType<typeof benchWindowMemory>>): void {
  console.log(
    `\nmaking a paper window on the monitor's thread (${result.hops} hops at ${result.hopsPerSecond} a second)`,
  );
  for (const run of result.runs)
    console.log(
      `  ${run.memory.padEnd(12)} ${run.windowMB.toFixed(1)} MB: made in ${run.madeMsP50.toFixed(2)} ms p50, ` +
        `${run.madeMsP99.toFixed(2)} p99, ${run.madeMsMax.toFixed(2)} max; event-loop delay p99 ${run.eventLoopDelayMsP99.toFixed(1)} ms`,
    );
}
