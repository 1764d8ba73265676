/**
 * Memory an inference worker lays its hops' windows out in, used again hop after hop: a paper
 * window is 10.9 MB, and first touches of fresh memory stalled the thread making it (measured on
 * a 2-core VM: p99 31–43 ms to make a window at 64 hops a second, 0.9 ms into memory used
 * before). Only arrays whose window has been answered come back here, each kept once.
 */
export class WindowBuffers {
  private readonly free = new Map<number, Float32Array[]>();
  /** Everything kept, by buffer, oldest first: the oldest go first when memory runs short. */
  private readonly kept = new Map<ArrayBuffer, Float32Array>();
  private bytes = 0;

  /** `maxBytes`: memory kept for reuse at most. */
  constructor(readonly maxBytes = 256 * 2 ** 20) {}

  /** An array of `length` floats, from memory handed back if there is some of that length. */
  take(length: number): Float32Array {
    const array = this.free.get(length)?.pop();
    if (!array) return new Float32Array(length);
    this.kept.delete(array.buffer as ArrayBuffer);
    this.bytes -= array.byteLength;
    return array;
  }

  /**
   * Keeps these arrays for `take`; the caller gives up every reference to them. Past `maxBytes`
   * the oldest kept go to the GC first (sizes no window asks for any more: a stream's window
   * grows segment by segment at its start). Skipped: a view of part of a buffer (the rest may be
   * in use), an empty or moved-away one, one already kept, one larger than `maxBytes`.
   */
  giveBack(arrays: readonly (Float32Array | undefined)[]): void {
    for (const array of arrays) {
      if (!array || array.byteLength === 0 || array.byteLength > this.maxBytes) continue;
      const buffer = array.buffer as ArrayBuffer;
      if (array.byteOffset !== 0 || array.byteLength !== buffer.byteLength) continue;
      if (this.kept.has(buffer)) continue;
      while (this.bytes + array.byteLength > this.maxBytes) this.dropOldest();
      this.kept.set(buffer, array);
      this.bytes += array.byteLength;
      const same = this.free.get(array.length);
      if (same) same.push(array);
      else this.free.set(array.length, [array]);
    }
  }

  /** Memory kept for reuse now, bytes. */
  get keptBytes(): number {
    return this.bytes;
  }

  private dropOldest(): void {
    const [buffer, array] = this.kept.entries().next().value!;
    this.kept.delete(buffer);
    this.bytes -= array.byteLength;
    const same = this.free.get(array.length)!;
    same.splice(same.indexOf(array), 1);
    if (same.length === 0) this.free.delete(array.length);
  }
}
