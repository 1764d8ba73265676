/** Memory an inference worker lays windows out in, used again (server/windows/window-buffers.ts). */
import { describe, expect, it } from 'vitest';
import { layOutWindow } from '../server/windows/feature-window.js';
import { WindowBuffers } from '../server/windows/window-buffers.js';
import { tinyWindow } from './support/tiny-window.js';

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

  it('a window laid out in memory holding another window is the window laid out afresh', () => {
    const buffers = new WindowBuffers();
    const used = layOutWindow(tinyWindow(4, 7, true).segments());
    const arrays = [used.frames, used.patches, used.audio, used.ast, used.stereo!];
    for (const array of arrays) array.fill(Number.NaN);
    buffers.giveBack(arrays);
    const segments = tinyWindow(4, 8, true).segments();
    const again = layOutWindow(segments, (length) => buffers.take(length));
    expect(buffers.keptBytes).toBe(0); // every array came from memory used before
    expect(again).toEqual(layOutWindow(segments));
  });
});
