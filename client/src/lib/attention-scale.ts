/**
 * How attention weights are drawn. A softmax over n places is read against the uniform 1/n: a
 * place the answer leaned on weighs more than that, and a map that is nearly flat decided
 * nothing by where it looked. Drawing raw weights (or weights over their maximum) paints a flat
 * map as if every place mattered, hiding both the picture and that fact.
 */

/** Each weight as a multiple of the uniform weight 1/n (1 = no preference). */
export function timesUniform(weights: readonly number[]): number[] {
  return weights.map((weight) => weight * weights.length);
}

/**
 * A shade from 0 to 1 per place: 0 at or below the uniform weight, 1 for the map's peak. All 0
 * when the map is flat, so only the places that stood out are tinted.
 */
export function shadesAboveUniform(weights: readonly number[]): number[] {
  const ratios = timesUniform(weights);
  const peak = Math.max(1, ...ratios);
  if (peak - 1 < 1e-3) return ratios.map(() => 0);
  return ratios.map((ratio) => Math.max(0, ratio - 1) / (peak - 1));
}

/** The highest weight as a multiple of uniform, e.g. 1.6 for "the peak is 1.6× uniform". */
export function peakTimesUniform(weights: readonly number[]): number {
  return weights.length ? Math.max(...timesUniform(weights)) : 1;
}

/** Bar heights as fractions of the highest bar, and the uniform weight on the same scale. */
export function barScale(weights: readonly number[]): { heights: number[]; uniform: number } {
  const top = Math.max(1e-9, ...weights);
  return {
    heights: weights.map((weight) => weight / top),
    uniform: weights.length ? 1 / weights.length / top : 0,
  };
}
