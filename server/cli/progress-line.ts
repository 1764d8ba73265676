/** "[#####-----] 250/1500 (84 s, ETA 7.0 min)": one progress line of a long CLI run. */
export function progressLine(done: number, total: number, elapsedSeconds: number): string {
  const width = 20;
  const filled = Math.round((width * done) / Math.max(1, total));
  const eta = (elapsedSeconds / Math.max(1, done)) * (total - done);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} (${elapsedSeconds.toFixed(0)} s, ETA ${(eta / 60).toFixed(1)} min)`;
}
