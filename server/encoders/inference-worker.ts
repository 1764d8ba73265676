/**
 * The inference worker thread: front-end, frozen encoders and QSTar's head run here, because
 * onnxruntime-node's session.run blocks the thread it runs on and the monitor's event loop must
 * keep serving sources and dashboards.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { coarseSpectrogram } from '../answers/segment-summary.js';
import { VGGISH } from '../features/audio/vggish-log-mel.js';
import { segmentFrontend, type SegmentFrontend } from '../features/segment-frontend.js';
import { BatchQueue } from './batch-queue.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './inference-protocol.js';
import { readManifest } from './model-manifest.js';
import { QStarAnswerer } from './qstar-answerer.js';
import { SegmentEncoders, splitFeatures, stackSegments } from './segment-encoders.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (reply: WorkerReply, transfer: ArrayBuffer[] = []) =>
  port.postMessage(reply, transfer);

try {
  const manifest = readManifest(init.profile);
  const options = init.threads ? { threads: init.threads } : {};
  const [encoders, answerer] = await Promise.all([
    SegmentEncoders.load(manifest, options),
    QStarAnswerer.load(manifest, init.variant, options),
  ]);
  // Segments of every stream that arrive while the encoders are busy go in one call.
  const encodeQueue = new BatchQueue(
    async (segments: SegmentFrontend[]) =>
      splitFeatures(await encoders.encode(stackSegments(segments)), segments.length),
    init.maxBatch,
  );
  port.on('message', (request: WorkerRequest) => {
    const handle = async () => {
      if (request.kind === 'encode') {
        const segment = segmentFrontend(request.samples, request.frame, manifest.frontend);
        const features = await encodeQueue.submit(segment);
        send({
          id: request.id,
          kind: 'encoded',
          features,
          spectrogram: coarseSpectrogram(segment.logMel, VGGISH.melBins),
        });
      } else {
        const answered = await answerer.answer(request.windows, request.questions);
        send({ id: request.id, kind: 'answered', answered });
      }
    };
    handle().catch((error: unknown) =>
      send({
        id: request.id,
        kind: 'error',
        message: error instanceof Error ? error.message : String(error),
      }),
    );
  });
  send({ kind: 'ready', provider: encoders.provider, profile: manifest.profile });
} catch (error) {
  send({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}
