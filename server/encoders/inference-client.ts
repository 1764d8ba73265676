/**
 * The monitor's side of the inference worker: promises over its messages, and its watchdog. A
 * worker that dies, or holds a request past `hungAfterMs`, is ended and started again; what it
 * held is rejected (the pipeline counts those segments and hops as skipped), and requests made
 * while it restarts are refused at once rather than queued.
 */
import { Worker } from 'node:worker_threads';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import type { Channels } from '../sources/media-file-source.js';
import {
  distinctBuffers,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from './inference-protocol.js';
import type { ExecutionProvider } from './onnx-model.js';
import type { Answered, WindowBatch } from './qstar-answerer.js';
import type { SegmentFeatures } from './segment-encoders.js';
import { isSegmentList } from '../windows/feature-window.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = {
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
  since: number;
};

export interface InferenceOptions {
  /** A request unanswered this long means the worker hangs (default 30 s). */
  readonly hungAfterMs?: number;
  /** The worker's entry point (tests put a misbehaving one here). */
  readonly workerUrl?: URL;
  /** Told when the worker died or hung and is being restarted, and when it is back. */
  readonly onHealth?: (health: InferenceHealth) => void;
}

/** How much the worker was used: its busy time and requests since the start, and restarts. */
export interface InferenceUsage {
  readonly busySeconds: number;
  readonly requests: number;
  readonly restarts: number;
}

export interface InferenceHealth {
  readonly state: 'ready' | 'restarting';
  readonly restarts: number;
  /** Why it was last restarted. */
  readonly reason?: string;
}

interface Started {
  readonly worker: Worker;
  readonly provider: ExecutionProvider;
  readonly audioFrontend: string;
  readonly picturesFrontend: string;
}

const WORKER_URL = new URL('./inference-worker.mjs', import.meta.url);

/** Starts a worker and waits for it to load its models. */
function startWorker(init: WorkerInit, url: URL): Promise<Started> {
  // The worker is TypeScript: its .mjs entry registers tsx in the worker thread first.
  const worker = new Worker(url, { workerData: init });
  return new Promise((resolve, reject) => {
    worker.once('message', (reply: WorkerReply) => {
      if (reply.kind === 'ready')
        return resolve({
          worker,
          provider: reply.provider,
          audioFrontend: reply.audioFrontend,
          picturesFrontend: reply.picturesFrontend,
        });
      void worker.terminate();
      reject(
        new Error(
          reply.kind === 'failed'
            ? reply.message
            : `unexpected ${reply.kind} from the inference worker`,
        ),
      );
    });
    worker.once('error', reject);
  });
}

export class InferenceClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private worker?: Worker;
  private health: InferenceHealth = { state: 'ready', restarts: 0 };
  private readonly watchdog: NodeJS.Timeout;
  private closing = false;
  private busyMs = 0;
  private requests = 0;
  private lastReplyAt = 0;

  private constructor(
    private readonly init: WorkerInit,
    private readonly options: InferenceOptions,
    started: Started,
  ) {
    this.provider = started.provider;
    this.audioFrontend = started.audioFrontend;
    this.picturesFrontend = started.picturesFrontend;
    this.adopt(started.worker);
    const hungAfter = options.hungAfterMs ?? 30_000;
    this.watchdog = setInterval(
      () => {
        const oldest = Math.min(...[...this.pending.values()].map((p) => p.since));
        if (performance.now() - oldest > hungAfter)
          this.restart(`it held a request over ${hungAfter / 1000} s`);
      },
      Math.min(1000, hungAfter / 4),
    );
    this.watchdog.unref();
  }

  readonly provider: ExecutionProvider;
  readonly audioFrontend: string;
  readonly picturesFrontend: string;

  /** Threads of each onnxruntime session in the worker (undefined: onnxruntime's choice). */
  get threads(): number | undefined {
    return this.init.threads;
  }

  static async start(init: WorkerInit, options: InferenceOptions = {}): Promise<InferenceClient> {
    return new InferenceClient(
      init,
      options,
      await startWorker(init, options.workerUrl ?? WORKER_URL),
    );
  }

  status(): InferenceHealth {
    return this.health;
  }

  /** Requests sent and not yet answered (InferencePool sends to the worker with fewest). */
  get inFlight(): number {
    return this.pending.size;
  }

  usage(): InferenceUsage {
    return {
      busySeconds: this.busyMs / 1000,
      requests: this.requests,
      restarts: this.health.restarts,
    };
  }

  private adopt(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      // The worker takes requests one at a time: each was worked on from when it was sent or
      // the previous one was answered, whichever is later.
      const now = performance.now();
      if (waiter) this.busyMs += now - Math.max(waiter.since, this.lastReplyAt);
      this.lastReplyAt = now;
      this.requests += 1;
      if (reply.kind === 'error') waiter?.reject(new Error(reply.message));
      else waiter?.resolve(reply);
    });
    worker.on('error', (error) => this.restart(`it failed: ${error.message}`, worker));
    worker.on('exit', (code) => this.restart(`it exited (${code})`, worker));
  }

  /** Ends the worker (if it is still the current one), fails what it held, starts another. */
  private restart(reason: string, which = this.worker): void {
    if (this.closing || !which || which !== this.worker) return;
    this.worker = undefined;
    void which.terminate();
    const error = new Error(`inference worker restarted: ${reason}`);
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    this.setHealth({ state: 'restarting', restarts: this.health.restarts + 1, reason });
    const attempt = (wait: number) =>
      setTimeout(() => {
        if (this.closing) return;
        startWorker(this.init, this.options.workerUrl ?? WORKER_URL).then(
          ({ worker }) => {
            if (this.closing) return void worker.terminate();
            this.adopt(worker);
            this.setHealth({ ...this.health, state: 'ready' });
          },
          () => attempt(Math.min(30_000, wait * 2)),
        );
      }, wait);
    attempt(500);
  }

  private setHealth(health: InferenceHealth): void {
    this.health = health;
    this.options.onHealth?.(health);
  }

  private request(
    message: WithoutId<WorkerRequest>,
    transfer: ArrayBuffer[],
  ): Promise<WorkerReply> {
    const worker = this.worker;
    if (!worker)
      return Promise.reject(new Error(`inference worker restarting (${this.health.reason})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, since: performance.now() });
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  /**
   * A segment's encoder features (with its band power per channel where `channels` are given),
   * and its coarse log-mel spectrogram for the dashboard.
   */
  async encode(
    samples: Float32Array,
    frame: RgbFrame,
    channels?: Channels,
  ): Promise<{ features: SegmentFeatures; spectrogram: number[][] }> {
    const reply = await this.request({ kind: 'encode', samples, frame, channels }, []);
    if (reply.kind !== 'encoded') throw new Error(`unexpected ${reply.kind}`);
    return { features: reply.features, spectrogram: reply.spectrogram };
  }

  /**
   * Answers `questions` over a window: its segments (`FeatureWindow.segments`: in shared memory,
   * so nothing is copied; the worker lays them out), or a window laid out already — once
   * (`FeatureWindow.single`: the head gathers it per question) or one per question. `handOver`
   * (laid-out windows): their buffers move to the worker instead of being copied, and the caller
   * may not read them after.
   */
  async answer(
    window: WindowBatch | readonly SegmentFeatures[],
    questions: number[][],
    handOver = false,
  ): Promise<Answered> {
    const transfer =
      handOver && !isSegmentList(window)
        ? distinctBuffers([
            window.frames,
            window.patches,
            window.audio,
            window.ast,
            window.segmentMask,
            window.stereo,
          ])
        : [];
    const reply = await this.request({ kind: 'answer', window, questions }, transfer);
    if (reply.kind !== 'answered') throw new Error(`unexpected ${reply.kind}`);
    return reply.answered;
  }

  /**
   * Waits (5 s at most) for the requests in flight, then ends the worker: terminating it while
   * onnxruntime still runs on it can abort the whole process.
   */
  async close(): Promise<void> {
    const deadline = performance.now() + 5000;
    while (this.pending.size > 0 && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    this.closing = true;
    clearInterval(this.watchdog);
    await this.worker?.terminate();
  }
}
