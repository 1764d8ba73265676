// An inference worker that computes nothing: it answers every request at once with copies of what
// the real worker answered once (workerData.echo), so `npm run bench -- --streams … --echo` measures
// what the monitor's side (its thread, messages, frame copies, windows) carries with no model cost:
// the most streams any GPU behind it could be given.
import { parentPort, workerData } from 'node:worker_threads';

const { features, spectrogram, answered } = workerData.echo;
const copy = (tensor) => ({ dims: tensor.dims, data: tensor.data.slice() });
const buffersOf = (arrays) => [...new Set(arrays.filter(Boolean).map((array) => array.buffer))];

parentPort.postMessage({
  kind: 'ready',
  provider: 'cpu',
  profile: workerData.profile,
  audioFrontend: 'none (echo)',
  picturesFrontend: 'none (echo)',
});
parentPort.on('message', (request) => {
  if (request.kind === 'encode') {
    const sent = Object.fromEntries(Object.entries(features).map(([k, t]) => [k, copy(t)]));
    const arrays = Object.values(sent).map((t) => t.data);
    parentPort.postMessage(
      { id: request.id, kind: 'encoded', features: sent, spectrogram },
      buffersOf(arrays),
    );
    return;
  }
  // One row of the real answer per question asked.
  const rows = request.questions.length;
  const per = (array) => array.length / answered.rows;
  const repeat = (array) => {
    const out = new Float32Array(rows * per(array));
    for (let b = 0; b < rows; b++) out.set(array.subarray(0, per(array)), b * per(array));
    return out;
  };
  const reply = {
    probabilities: repeat(answered.probabilities),
    frequency: repeat(answered.frequency),
    spatial: repeat(answered.spatial),
    temporal: repeat(answered.temporal),
  };
  const { frames, patches, audio, ast, stereo } = request.window;
  const spent = [frames, patches, audio, ast, stereo].filter(Boolean);
  parentPort.postMessage(
    { id: request.id, kind: 'answered', answered: reply, spent },
    buffersOf([...Object.values(reply), ...spent]),
  );
});
