/**
 * AST's model input from a fbank: zero-pad or crop to `targetLength` frames, then normalise as
 * AST's loader does, (x − mean) / (2 · std), with AudioSet's statistics by default.
 */
import { AudioInputError } from './audio-input-error.js';
import type { FeatureMatrix } from './feature-matrix.js';

export const AST_NORMALISATION = { mean: -4.2677393, std: 4.5689974 } as const;

export function astInput(
  fbank: FeatureMatrix,
  targetLength: number,
  normalisation: { mean: number; std: number } = AST_NORMALISATION,
): Float32Array {
  if (!Number.isInteger(targetLength) || targetLength <= 0) {
    throw new AudioInputError(`AST target length must be a positive integer, got ${targetLength}`);
  }
  const out = new Float32Array(targetLength * fbank.cols);
  // Padding rows are zeros before normalisation, as AST's ZeroPad2d puts them.
  out.set(fbank.data.subarray(0, Math.min(fbank.rows, targetLength) * fbank.cols));
  const scale = 1 / (2 * normalisation.std);
  for (let i = 0; i < out.length; i++) out[i] = (out[i]! - normalisation.mean) * scale;
  return out;
}
