/**
 * The inference worker thread: front-end, frozen encoders and QSTar's head run here, because
 * onnxruntime-node's session.run blocks the thread it runs on and the monitor's event loop must
 * keep serving sources and dashboards.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { coarseSpectrogram } from '../answers/segment-summary.js';
import { VGGISH } from '../features/audio/vggish-log-mel.js';
import { concatBytes, concatFloats } from '../features/concatenate.js';
import {
  AUDIO_GRAPH_AST_FRAMES,
  AudioFrontendGraph,
  audioFrontendChoice,
  typescriptAudioFrontend,
} from '../features/audio-frontend-graph.js';
import { assertSegmentSamples, segmentPixels } from '../features/segment-frontend.js';
import { choosePicturesFrontend } from '../features/pictures-frontend-choice.js';
import { assertRgbFrame, type RgbFrame } from '../features/video/rgb-frame.js';
import { BatchQueue, groupIndices } from './batch-queue.js';
import { assertHop, hopShape, joinHops, splitAnswered, type Hop } from './hop-batch.js';
import {
  distinctBuffers,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from './inference-protocol.js';
import { readManifest } from './model-manifest.js';
import { isSegmentList, layOutWindow } from '../windows/feature-window.js';
import { WindowBuffers } from '../windows/window-buffers.js';
import { QStarAnswerer, type Answered } from './qstar-answerer.js';
import { SegmentEncoders, splitFeatures, withStereo } from './segment-encoders.js';
import { stereoBands } from '../features/audio/stereo-bands.js';

/** TUTTI_HOP_BATCH: most hops one head call takes (default 1: each hop its own call). */
function hopBatchSize(value = process.env['TUTTI_HOP_BATCH'] ?? '1'): number {
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`TUTTI_HOP_BATCH must be a whole number ≥ 1, not "${value}"`);
  return size;
}

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
  const { astFrames } = manifest.frontend;
  // The audio front-end as a graph on the encoders' provider, batched with them (TUTTI_FRONTEND).
  const graph =
    audioFrontendChoice() === 'graph' && astFrames === AUDIO_GRAPH_AST_FRAMES
      ? await AudioFrontendGraph.load(options)
      : undefined;
  // The picture front-end as a graph too, where TUTTI_PICTURES_FRONTEND chooses it.
  const pictures = await choosePicturesFrontend(encoders.provider, manifest.frontend, options);
  const picturesGraph = pictures.graph;
  // Segments of every stream that arrive while the encoders are busy go in one call.
  const encodeQueue = new BatchQueue(
    async (segments: { samples: Float32Array; frame: RgbFrame; pixels?: Uint8Array }[]) => {
      const samples = segments.map((segment) => segment.samples);
      const audio = graph
        ? await graph.run(concatFloats(samples), segments.length)
        : typescriptAudioFrontend(samples, astFrames);
      const pictures = picturesGraph
        ? {
            images: await picturesGraph.runMixed(
              segments.map((segment) => segment.frame),
              manifest.frontend,
            ),
          }
        : { pixels: concatBytes(segments.map((segment) => segment.pixels!)) };
      const features = await encoders.encode({ count: segments.length, ...audio, ...pictures });
      const logMelSize = VGGISH.exampleFrames * VGGISH.melBins;
      return splitFeatures(features, segments.length).map((encoded, i) => ({
        features: encoded,
        logMel: audio.logMel.subarray(i * logMelSize, (i + 1) * logMelSize),
      }));
    },
    init.maxBatch,
  );
  const answerHops = async (hops: Hop[]) => {
    const answers: Answered[] = [];
    for (const indices of groupIndices(hops, hopShape)) {
      const { windows, questions, windowOf, rows } = joinHops(indices.map((i) => hops[i]!));
      const answered = splitAnswered(await answerer.answer(windows, questions, windowOf), rows);
      indices.forEach((i, k) => (answers[i] = answered[k]!));
    }
    return answers;
  };
  // TUTTI_HOP_BATCH > 1: hops of every stream that arrive while the head is busy go in one call
  // too. Off by default: on a GPU it has not carried more streams (README, "GPU"); without it
  // each hop runs at once, beside the others.
  const hopBatch = hopBatchSize();
  const answerQueue = hopBatch > 1 ? new BatchQueue(answerHops, hopBatch) : undefined;
  const windowMemory = new WindowBuffers();
  const answer = async (hop: Hop) =>
    answerQueue ? answerQueue.submit(hop) : (await answerHops([hop]))[0]!;
  port.on('message', (request: WorkerRequest) => {
    const handle = async () => {
      if (request.kind === 'encode') {
        // Checked alone, so one bad segment fails only its own request, not its batch.
        assertSegmentSamples(request.samples);
        request.channels?.forEach(assertSegmentSamples);
        assertRgbFrame(request.frame);
        const { samples, frame, channels } = request;
        const pixels = picturesGraph ? undefined : segmentPixels(frame, manifest.frontend);
        const { features, logMel } = await encodeQueue.submit({
          samples,
          frame,
          ...(pixels ? { pixels } : {}),
        });
        const sent = withStereo(features, channels && stereoBands(...channels));
        // Each segment's features are arrays of their own (splitFeatures): moved, not copied.
        send(
          {
            id: request.id,
            kind: 'encoded',
            features: sent,
            spectrogram: coarseSpectrogram(logMel, VGGISH.melBins),
          },
          distinctBuffers(
            [sent.frame, sent.patches, sent.audio, sent.ast, sent.stereo].map((t) => t?.data),
          ),
        );
      } else {
        // Segments are laid out here, in memory this worker used for earlier windows.
        const given = request.window;
        const laidOutHere = isSegmentList(given);
        const window = laidOutHere ? layOutWindow(given, (n) => windowMemory.take(n)) : given;
        // Checked alone, so one bad hop fails only its own request, not its batch.
        const hop = { window, questions: request.questions };
        assertHop(hop);
        const answered = await answer(hop);
        // The head is done with the window: what was laid out here is used for the next ones.
        if (laidOutHere)
          windowMemory.giveBack([
            window.frames,
            window.patches,
            window.audio,
            window.ast,
            window.stereo,
          ]);
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
  send({
    kind: 'ready',
    provider: encoders.provider,
    profile: manifest.profile,
    audioFrontend: graph ? `graph on ${graph.provider}` : 'typescript',
    picturesFrontend: pictures.said,
  });
} catch (error) {
  send({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}
