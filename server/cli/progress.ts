/**
 * Progress of a long CLI run (synth, extract, eval, probe): on a terminal one bar rewritten in
 * place — "extract [#####---------------] 250/1500 videos 2.9/s ETA 7.2 min" — at most ten times a
 * second; elsewhere (CI logs, a file) the same line printed every `plainEverySeconds` and at the
 * end, so a log stays readable.
 */
export function progressLine(
  label: string,
  done: number,
  total: number,
  elapsedSeconds: number,
  unit: string,
): string {
  const width = 20;
  const filled = Math.round((width * Math.min(done, total)) / Math.max(1, total));
  const rate = done / Math.max(elapsedSeconds, 1e-3);
  const eta = (total - done) / Math.max(rate, 1e-9);
  const left =
    done >= total
      ? `done in ${(elapsedSeconds / 60).toFixed(1)} min`
      : `ETA ${(eta / 60).toFixed(1)} min`;
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${unit} ${rate.toFixed(rate < 10 ? 1 : 0)}/s ${left}`;
}

export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private readonly started = performance.now();
  private lastPrinted = -Infinity;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly output: ProgressOutput = process.stderr,
    private readonly plainEverySeconds = 10,
  ) {}

  /** `count` more done (`update` sets the count itself). */
  advance(count = 1): void {
    this.update(this.done + count);
  }

  update(done: number): void {
    this.done = done;
    const now = performance.now();
    const finished = done >= this.total;
    const every = this.output.isTTY ? 100 : this.plainEverySeconds * 1000;
    if (!finished && now - this.lastPrinted < every) return;
    this.lastPrinted = now;
    const line = progressLine(this.label, done, this.total, (now - this.started) / 1000, this.unit);
    this.output.write(this.output.isTTY ? `\r${line}\x1b[K${finished ? '\n' : ''}` : `${line}\n`);
  }
}
