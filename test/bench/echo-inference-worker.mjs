// An inference worker that computes nothing: it answers every request at once with copies of what
// the real worker answered once (workerData.echo), so `npm run bench -- --streams … --echo` measures
// what the monitor's side (its thread, messages, frame copies, windows) carries with no model cost:
// the most streams any GPU behind it could be given.
import { parentPort, workerData } from 'node:worker_threads';

const { features, spectrogram, answered } = workerData.echo;
// In shared memory, as the real worker's features are (splitFeatures).
const copy = (tensor) => {
  const data = new Float32Array(new SharedArrayBuffer(tensor.data.byteLength));
  data.set(tensor.data);
  return { dims: tensor.dims, data };
};
const buffersOf = (arrays) => [
  ...new Set(
    arrays.filter((a) => a && !(a.buffer instanceof SharedArrayBuffer)).map((a) => a.buffer),
  ),
];

const laidOut = new Map(); // by name: one array per size, used again
function layOut(segments) {
  for (const name of ['frame', 'patches', 'audio', 'ast']) {
    const per = segments[0][name].data.length;
    let window = laidOut.get(name);
    if (window?.length !== segments.length * per)
      laidOut.set(name, (window = new Float32Array(segments.length * per)));
    segments.forEach((features, t) => window.set(features[name].data, t * per));
  }
}

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
  if (Array.isArray(request.window)) {
    // Segments: laid out here as the real worker does (the copy it makes, in memory it reuses).
    layOut(request.window);
    parentPort.postMessage(
      { id: request.id, kind: 'answered', answered: reply, spent: [] },
      buffersOf(Object.values(reply)),
    );
    return;
  }
  const { frames, patches, audio, ast, stereo } = request.window;
  const spent = [frames, patches, audio, ast, stereo].filter(Boolean);
  parentPort.postMessage(
    { id: request.id, kind: 'answered', answered: reply, spent },
    buffersOf([...Object.values(reply), ...spent]),
  );
});
