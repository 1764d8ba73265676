/**
 * Several inference workers behind one face (TUTTI_INFERENCE_WORKERS). One worker thread does a
 * stream's CPU work too — the picture front-end, copying windows into tensors — between its GPU
 * calls, so on a GPU one worker leaves the chip idle long before it is busy (README, "GPU"); each
 * worker has its own sessions on the same device. Every request goes to the worker with the
 * fewest requests in flight, so segments still batch in whichever worker is busy.
 */
import os from 'node:os';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import type { Channels } from '../sources/media-file-source.js';
import {
  InferenceClient,
  type InferenceHealth,
  type InferenceOptions,
  type InferenceUsage,
} from './inference-client.js';
import type { WorkerInit } from './inference-protocol.js';

/** What the pipeline and the monitor use of inference: one worker or a pool of them. */
export type Inference = Pick<
  InferenceClient,
  | 'provider'
  | 'threads'
  | 'audioFrontend'
  | 'picturesFrontend'
  | 'encode'
  | 'answer'
  | 'status'
  | 'usage'
  | 'close'
>;

/**
 * Threads for each onnxruntime session of a worker (TUTTI_ONNX_THREADS; 0 = onnxruntime's own
 * choice): by default the cores shared out among the workers. Left to onnxruntime, every session
 * of every worker keeps a pool as wide as the machine (8 workers × 6 sessions × 16 cores on the
 * H100 machine), and on the CPU provider N workers fight over the same cores. One worker keeps
 * onnxruntime's choice.
 */
export function threadsPerWorker(
  workers: number,
  value = process.env['TUTTI_ONNX_THREADS'],
  cores = os.availableParallelism(),
): number | undefined {
  if (value !== undefined) {
    const threads = Number(value);
    if (value.trim() === '' || !Number.isInteger(threads) || threads < 0)
      throw new Error(`TUTTI_ONNX_THREADS must be a whole number ≥ 0, not "${value}"`);
    return threads === 0 ? undefined : threads;
  }
  return workers > 1 ? Math.max(1, Math.floor(cores / workers)) : undefined;
}

/** What a start line says of the threads the workers were given (none where onnxruntime chooses). */
export function threadsSaid({ threads }: Pick<Inference, 'threads'>): string[] {
  return threads ? [`${threads} onnxruntime thread${threads > 1 ? 's' : ''} each`] : [];
}

export class InferencePool implements Inference {
  private next = 0;

  private constructor(private readonly workers: readonly InferenceClient[]) {
    this.provider = workers[0]!.provider;
    this.threads = workers[0]!.threads;
    this.audioFrontend = workers[0]!.audioFrontend;
    this.picturesFrontend = workers[0]!.picturesFrontend;
  }

  readonly provider: InferenceClient['provider'];
  readonly threads: number | undefined;
  readonly audioFrontend: string;
  readonly picturesFrontend: string;

  /**
   * `count` workers (one is a plain InferenceClient); they load their models side by side, each
   * session with `threadsPerWorker(count)` threads unless `init` names them.
   */
  static async start(
    given: WorkerInit,
    options: InferenceOptions = {},
    count = 1,
  ): Promise<Inference> {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`inference workers must be a whole number ≥ 1, not ${count}`);
    const threads = given.threads ?? threadsPerWorker(count);
    const init = threads ? { ...given, threads } : given;
    if (count === 1) return InferenceClient.start(init, options);
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => InferenceClient.start(init, options)),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((worker) => worker.close()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new InferencePool(workers);
  }

  /** The worker with the fewest requests in flight; ties go round in turn. */
  private pick(): InferenceClient {
    let best = this.workers[this.next % this.workers.length]!;
    for (let i = 1; i < this.workers.length; i++) {
      const worker = this.workers[(this.next + i) % this.workers.length]!;
      if (worker.inFlight < best.inFlight) best = worker;
    }
    this.next += 1;
    return best;
  }

  encode(samples: Float32Array, frame: RgbFrame, channels?: Channels) {
    return this.pick().encode(samples, frame, channels);
  }

  answer(...args: Parameters<InferenceClient['answer']>) {
    return this.pick().answer(...args);
  }

  /** Restarting while any worker restarts (each restarts alone; the others keep answering). */
  status(): InferenceHealth {
    const health = this.workers.map((worker) => worker.status());
    const restarting = health.find((h) => h.state === 'restarting');
    const restarts = health.reduce((sum, h) => sum + h.restarts, 0);
    return restarting ? { ...restarting, restarts } : { state: 'ready', restarts };
  }

  /** Each worker's own usage, in start order. */
  workerUsage(): InferenceUsage[] {
    return this.workers.map((worker) => worker.usage());
  }

  /** Summed over the workers: busy seconds can exceed the wall time, as they work side by side. */
  usage(): InferenceUsage {
    return this.workerUsage().reduce((a, b) => ({
      busySeconds: a.busySeconds + b.busySeconds,
      requests: a.requests + b.requests,
      restarts: a.restarts + b.restarts,
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}
