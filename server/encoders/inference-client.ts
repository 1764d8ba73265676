/** The monitor's side of the inference worker: promises over its messages. */
import { Worker } from 'node:worker_threads';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './inference-protocol.js';
import type { ExecutionProvider } from './onnx-model.js';
import type { Answered, WindowBatch } from './qstar-answerer.js';
import type { SegmentFeatures } from './segment-encoders.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };

export class InferenceClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly worker: Worker,
    readonly provider: ExecutionProvider,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.kind === 'error') waiter?.reject(new Error(reply.message));
      else waiter?.resolve(reply);
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`inference worker exited (${code})`)));
  }

  static start(init: WorkerInit): Promise<InferenceClient> {
    // The worker is TypeScript: its .mjs entry registers tsx in the worker thread first.
    const worker = new Worker(new URL('./inference-worker.mjs', import.meta.url), {
      workerData: init,
    });
    return new Promise((resolve, reject) => {
      worker.once('message', (reply: WorkerReply) => {
        if (reply.kind === 'ready') resolve(new InferenceClient(worker, reply.provider));
        else {
          void worker.terminate();
          reject(
            new Error(
              reply.kind === 'failed'
                ? reply.message
                : `unexpected ${reply.kind} from the inference worker`,
            ),
          );
        }
      });
      worker.once('error', reject);
    });
  }

  private request(
    message: WithoutId<WorkerRequest>,
    transfer: ArrayBuffer[],
  ): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** A segment's encoder features, and its coarse log-mel spectrogram for the dashboard. */
  async encode(
    samples: Float32Array,
    frame: RgbFrame,
  ): Promise<{ features: SegmentFeatures; spectrogram: number[][] }> {
    const reply = await this.request({ kind: 'encode', samples, frame }, []);
    if (reply.kind !== 'encoded') throw new Error(`unexpected ${reply.kind}`);
    return { features: reply.features, spectrogram: reply.spectrogram };
  }

  async answer(windows: WindowBatch, questions: number[][]): Promise<Answered> {
    const reply = await this.request({ kind: 'answer', windows, questions }, []);
    if (reply.kind !== 'answered') throw new Error(`unexpected ${reply.kind}`);
    return reply.answered;
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  /**
   * Waits (5 s at most) for the requests in flight, then ends the worker: terminating it while
   * onnxruntime still runs on it can abort the whole process.
   */
  async close(): Promise<void> {
    const deadline = performance.now() + 5000;
    while (this.pending.size > 0 && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await this.worker.terminate();
  }
}
