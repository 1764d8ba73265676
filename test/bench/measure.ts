/** Timing helpers for benchmarks: warm up, then take the median of repeated runs. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/musicavqa.js';

export function medianMs(run: () => void, repeats = 30, warmup = 10): number {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The same for work that awaits (an onnxruntime session's run). */
export { medianMsAsync } from '../../server/features/median-ms.js';

export const BENCH_DIR = path.join(REPO_ROOT, 'test-results', 'bench');

export function writeBenchResult(name: string, result: unknown): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  const file = path.join(BENCH_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}
