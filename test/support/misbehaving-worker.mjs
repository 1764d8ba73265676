// An inference worker that loads, says it is ready, then misbehaves on every request as its
// workerData.variant says: 'die' exits the thread, 'hang' spins forever.
import { parentPort, workerData } from 'node:worker_threads';

parentPort.postMessage({
  kind: 'ready',
  provider: 'cpu',
  profile: 'misbehaving',
  audioFrontend: 'typescript',
  picturesFrontend: 'typescript',
});
parentPort.on('message', () => {
  if (workerData.variant === 'die') process.exit(3);
  for (;;);
});
