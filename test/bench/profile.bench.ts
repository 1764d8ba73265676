/**
 * `npm run bench -- --profile DIR`: what one model profile costs on this machine's provider
 * (issue #15 §6) — per 1 s segment each encoder at batch 1 and 8, the front-end, and a hop's head
 * for 4 questions over a 10 s window; then the real-time factor of one stream: one second of
 * stream over the work it needs each second (front-end + encoders + a hop).
 */
import os from 'node:os';
import path from 'node:path';
import { questionTokenizer, readManifest } from '../../server/encoders/model-manifest.js';
import { loadModel, tensor } from '../../server/encoders/onnx-model.js';
import { QStarAnswerer } from '../../server/encoders/qstar-answerer.js';
import { segmentFrontend } from '../../server/features/segment-frontend.js';
import { repeatWindow } from '../../server/windows/feature-window.js';
import { patternImage } from '../support/pattern-image.js';
import { BENCH_QUESTIONS as QUESTIONS } from './bench-questions.js';
import { medianMs, medianMsAsync } from './measure.js';

export async function benchProfile(directory: string, batches: readonly number[] = [1, 8]) {
  const manifest = readManifest(directory);
  const { frontend } = manifest;
  const samples = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / 7));
  const frame = { width: 1280, height: 720, data: patternImage(1280, 720) };
  const frontendMs = medianMs(() => segmentFrontend(samples, frame, frontend), 10, 3);

  const inputs = {
    ast: (b: number) => ({
      fbank: tensor(new Float32Array(b * frontend.astFrames * 128), [b, frontend.astFrames, 128]),
    }),
    audio: (b: number) => ({ logmel: tensor(new Float32Array(b * 96 * 64), [b, 96, 64]) }),
    frame: (b: number) => {
      const size = 3 * frontend.frameHeight * frontend.frameWidth;
      return {
        image: tensor(new Float32Array(b * size), [
          b,
          3,
          frontend.frameHeight,
          frontend.frameWidth,
        ]),
      };
    },
  };
  const encoders: Record<string, { provider: string; msPerItem: Record<number, number> }> = {};
  const outputs: Record<string, readonly number[]> = {};
  for (const name of ['ast', 'audio', 'frame'] as const) {
    const { session, provider } = await loadModel(path.join(directory, manifest.encoders[name]));
    const one = inputs[name](1);
    const out = await session.run(one);
    for (const [key, value] of Object.entries(out)) outputs[`${name}.${key}`] = value.dims;
    const msPerItem: Record<number, number> = {};
    for (const batch of batches) {
      const feed = inputs[name](batch);
      // Fewer repeats for big batches: on a CPU one CLIP call of 32 takes tens of seconds.
      msPerItem[batch] =
        (await medianMsAsync(() => session.run(feed), batch > 1 ? 3 : 5, 1)) / batch;
    }
    encoders[name] = { provider, msPerItem };
    await session.release();
  }

  const segments = 10;
  // Per segment: patches × patch (frame), bands × astDim (AST), after the batch axis.
  const [patches = 1, patch = 1] = outputs['frame.patches']!.slice(-2);
  const [bands = 1, astDim = 1] = outputs['ast.tokens']!.slice(-2);
  const dims = {
    frame: outputs['frame.embedding']![1]!,
    patches,
    patch,
    audio: outputs['audio.embedding']![1]!,
    bands,
    ast: astDim,
  };
  // The window once, as the monitor sends it: the head gathers it per question (window_of).
  const batch = 1;
  const window = {
    batch,
    segments,
    frames: new Float32Array(batch * segments * dims.frame),
    patches: new Float32Array(batch * segments * patches * patch),
    audio: new Float32Array(batch * segments * dims.audio),
    ast: new Float32Array(batch * segments * bands * astDim),
    segmentMask: new Uint8Array(batch * segments).fill(1),
    dims,
  };
  const tokenize = questionTokenizer(manifest);
  const answerer = await QStarAnswerer.load(manifest);
  const questions = QUESTIONS.map(tokenize);
  // Standing questions, encoded at the first hop and kept (warm-up), as the monitor serves them.
  const hopMs = await medianMsAsync(() => answerer.answer(window, questions), 5, 1);
  // As before heads gathered windows themselves: the window repeated per question first (so the
  // head computes on each copy, as every head did before session 22).
  const repeatedHopMs = await medianMsAsync(
    () => answerer.answer(repeatWindow(window, questions.length), questions),
    5,
    1,
  );
  await answerer.release();
  // As before session 22: the question encoder (the paper profile's text tower) run every hop.
  const encoding = await QStarAnswerer.load(manifest, 'full', { keptQuestions: 0 });
  const encodedHopMs = await medianMsAsync(() => encoding.answer(window, questions), 5, 1);
  await encoding.release();

  const perSecond =
    frontendMs +
    encoders['ast']!.msPerItem[batches[0]!]! +
    encoders['audio']!.msPerItem[batches[0]!]! +
    encoders['frame']!.msPerItem[batches[0]!]! +
    hopMs;
  return {
    profile: manifest.profile,
    description: manifest.description,
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
    frontendMsPerSegment: frontendMs,
    encoders,
    hopMsFor4Questions: hopMs,
    hopMsWindowRepeated: repeatedHopMs,
    hopMsQuestionsEncoded: encodedHopMs,
    /** What a hop's window weighs, fed once (it was fed once per question before session 21). */
    hopWindowMB:
      (4 *
        [window.frames, window.patches, window.audio, window.ast].reduce(
          (n, a) => n + a.length,
          0,
        )) /
      1e6,
    msPerStreamSecond: perSecond,
    realTimeFactor: 1000 / perSecond,
  };
}

export function printProfile(result: Awaited<ReturnType<typeof benchProfile>>): void {
  console.log(`\nProfile ${result.profile} (${result.description})`);
  console.table(
    Object.fromEntries(
      Object.entries(result.encoders).map(([name, v]) => [
        name,
        {
          provider: v.provider,
          ...Object.fromEntries(
            Object.entries(v.msPerItem).map(([batch, ms]) => [
              `ms per item, batch ${batch}`,
              Number(ms.toFixed(2)),
            ]),
          ),
        },
      ]),
    ),
  );
  console.log(
    `front-end ${result.frontendMsPerSegment.toFixed(1)} ms per segment (1280×720 frame); a hop for 4 questions over 10 s ${result.hopMsFor4Questions.toFixed(1)} ms` +
      ` (standing questions encoded once and kept; ${result.hopMsQuestionsEncoded.toFixed(1)} ms encoding them every hop;` +
      ` ${result.hopMsWindowRepeated.toFixed(1)} ms with the window repeated per question and computed on per question; the window fed once is ${result.hopWindowMB.toFixed(1)} MB);` +
      ` one stream needs ${result.msPerStreamSecond.toFixed(0)} ms per second: ${result.realTimeFactor.toFixed(2)}× real time`,
  );
}
