/**
 * An inference worker that computes nothing: it answers every request at once with copies of what
 * the real worker answered once (workerData.echo), so `npm run bench -- --streams … --echo`
 * measures what the monitor's side (its thread, messages, frame copies) carries with no model
 * cost: the most streams any GPU behind it could be given. It does what the real worker does
 * besides the models: features in shared memory (splitFeatures), each hop's window laid out in
 * memory it uses again (layOutWindow, WindowBuffers).
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  distinctBuffers,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from '../../server/encoders/inference-protocol.js';
import type { Answered } from '../../server/encoders/qstar-answerer.js';
import { splitFeatures, type SegmentFeatures } from '../../server/encoders/segment-encoders.js';
import { isSegmentList, layOutWindow } from '../../server/windows/feature-window.js';
import { WindowBuffers } from '../../server/windows/window-buffers.js';

export interface Echo {
  readonly features: SegmentFeatures;
  readonly spectrogram: number[][];
  /** The real worker's answers to `rows` questions. */
  readonly answered: Answered & { readonly rows: number };
}

const port = parentPort!;
const init = workerData as WorkerInit & { echo: Echo };
const { features, spectrogram, answered } = init.echo;
const send = (reply: WorkerReply, transfer: ArrayBuffer[] = []) =>
  port.postMessage(reply, transfer);
const windowMemory = new WindowBuffers();

/** `array`'s first row, once per question asked. */
function rowPerQuestion(array: Float32Array, questions: number): Float32Array {
  const per = array.length / answered.rows;
  const out = new Float32Array(questions * per);
  for (let b = 0; b < questions; b++) out.set(array.subarray(0, per), b * per);
  return out;
}

send({
  kind: 'ready',
  provider: 'cpu',
  profile: init.profile,
  audioFrontend: 'none (echo)',
  picturesFrontend: 'none (echo)',
});
port.on('message', (request: WorkerRequest) => {
  if (request.kind === 'encode') {
    send({
      id: request.id,
      kind: 'encoded',
      features: splitFeatures(features, 1)[0]!,
      spectrogram,
    });
    return;
  }
  const questions = request.questions.length;
  const reply: Answered = {
    probabilities: rowPerQuestion(answered.probabilities, questions),
    frequency: rowPerQuestion(answered.frequency, questions),
    spatial: rowPerQuestion(answered.spatial, questions),
    temporal: rowPerQuestion(answered.temporal, questions),
  };
  if (isSegmentList(request.window)) {
    const window = layOutWindow(request.window, (n) => windowMemory.take(n));
    windowMemory.giveBack([window.frames, window.patches, window.audio, window.ast, window.stereo]);
  }
  send(
    { id: request.id, kind: 'answered', answered: reply },
    distinctBuffers(Object.values(reply)),
  );
});
