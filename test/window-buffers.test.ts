/** Window memory used again once the inference worker hands it back (server/windows/window-buffers.ts). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceClient } from '../server/encoders/inference-client.js';
import { questionTokenizer, readManifest } from '../server/encoders/model-manifest.js';
import type { WindowBatch } from '../server/encoders/qstar-answerer.js';
import { WindowBuffers, windowBuffers } from '../server/windows/window-buffers.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { tinyWindow } from './support/tiny-window.js';

const PROFILE = path.join(REPO_ROOT, 'models', 'tiny');

const arraysOf = (w: WindowBatch) => [w.frames, w.patches, w.audio, w.ast, w.stereo!];
const bytesOf = (w: WindowBatch) => arraysOf(w).reduce((sum, a) => sum + a.byteLength, 0);

describe('window buffers', () => {
  it('hands an array given back out again, once, for the same length only', () => {
    const buffers = new WindowBuffers();
    const array = new Float32Array(100);
    buffers.giveBack([array, array, undefined]); // given twice: kept once
    expect(buffers.keptBytes).toBe(400);
    expect(buffers.take(99)).not.toBe(array);
    expect(buffers.take(100)).toBe(array);
    expect(buffers.take(100)).not.toBe(array);
    expect(buffers.keptBytes).toBe(0);
  });

  it('keeps no view of part of a buffer, nothing moved away, nothing larger than its bound', () => {
    const buffers = new WindowBuffers(1000);
    const whole = new ArrayBuffer(800);
    const moved = new Float32Array(10);
    structuredClone(moved, { transfer: [moved.buffer] }); // detached here, as after a postMessage
    buffers.giveBack([new Float32Array(whole, 0, 100), new Float32Array(whole, 400, 100), moved]);
    buffers.giveBack([new Float32Array(251)]); // 1,004 bytes
    expect(buffers.keptBytes).toBe(0);
  });

  it('lets the oldest go first when its bound is reached', () => {
    const buffers = new WindowBuffers(1000);
    const [a, b, c] = [new Float32Array(200), new Float32Array(100), new Float32Array(50)];
    buffers.giveBack([a, b]); // 800 + 400 bytes: a goes
    buffers.giveBack([c]);
    expect(buffers.keptBytes).toBe(600);
    expect(buffers.take(200)).not.toBe(a);
    expect(buffers.take(100)).toBe(b);
    expect(buffers.take(50)).toBe(c);
    expect(buffers.keptBytes).toBe(0);
  });

  it('a window made in memory used before is the window made afresh, value for value', () => {
    const buffers = new WindowBuffers();
    const used = tinyWindow(4, 7, true).single();
    for (const array of arraysOf(used)) array.fill(Number.NaN);
    buffers.giveBack(arraysOf(used));
    const again = tinyWindow(4, 8, true, buffers).single();
    expect(buffers.keptBytes).toBe(0); // every array came from memory used before
    expect(arraysOf(again)).toEqual(arraysOf(tinyWindow(4, 8, true, new WindowBuffers()).single()));
  });

  it("the worker hands each window's memory back with its answers; the next window is made in it", async () => {
    const manifest = readManifest(PROFILE);
    const ids = ['Is there a flute sound?', 'Is the piano playing?'].map(
      questionTokenizer(manifest),
    );
    const client = await InferenceClient.start({ profile: PROFILE, variant: 'full', threads: 1 });
    try {
      const first = tinyWindow(4, 5, true).single();
      const bytes = bytesOf(first);
      const before = windowBuffers.keptBytes;
      await client.answer(first, ids, true);
      expect(windowBuffers.keptBytes - before).toBe(bytes);

      const second = tinyWindow(4, 6, true).single();
      expect(windowBuffers.keptBytes).toBe(before); // made in what came back
      const copied = structuredClone(second);
      const expected = await client.answer(copied, ids);
      const answered = await client.answer(second, ids, true);
      expect(answered.probabilities).toEqual(expected.probabilities);
    } finally {
      await client.close();
    }
  }, 60_000);
});
