/** The median time of repeated runs after a warm-up, in ms (start-up choices and benchmarks alike). */
export async function medianMsAsync(run: () => unknown, repeats = 20, warmup = 5): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
