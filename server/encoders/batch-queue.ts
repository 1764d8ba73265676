/**
 * Dynamic batching: items submitted while a batch is running wait and go together into the next
 * one (at most `maxBatch`), so one encoder call serves every stream whose segment arrived
 * meanwhile. An idle queue runs a lone item at once: batching adds no latency, only fills the
 * calls a busy accelerator (or CPU) makes anyway.
 */
export class BatchQueue<Item, Result> {
  private readonly waiting: {
    item: Item;
    resolve: (result: Result) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private running = false;
  /** Sizes of the batches run so far (for metrics and tests). */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly runBatch: (items: Item[]) => Promise<Result[]>,
    private readonly maxBatch = 32,
  ) {
    if (!(maxBatch >= 1)) throw new Error(`a batch holds at least one item, not ${maxBatch}`);
  }

  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.batchSizes.push(batch.length);
      try {
        const results = await this.runBatch(batch.map((entry) => entry.item));
        if (results.length !== batch.length)
          throw new Error(`a batch of ${batch.length} gave ${results.length} results`);
        batch.forEach((entry, i) => entry.resolve(results[i]!));
      } catch (error) {
        batch.forEach((entry) => entry.reject(error));
      }
    }
    this.running = false;
  }
}

/** Indices of `items` grouped by `key`, groups in order of first appearance: what may share a call. */
export function groupIndices<T>(items: readonly T[], key: (item: T) => string): number[][] {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(i);
    else groups.set(k, [i]);
  });
  return [...groups.values()];
}
