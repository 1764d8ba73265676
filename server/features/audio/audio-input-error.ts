/** Bad audio given to a front-end: says what was wrong and where, never computes garbage. */
export class AudioInputError extends Error {
  override name = 'AudioInputError';
}

/** Throws on the first NaN or ±Infinity sample, naming its index. */
export function assertFiniteSamples(samples: ArrayLike<number>, what = 'audio'): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new AudioInputError(`${what}: sample ${i} is ${samples[i]}; samples must be finite`);
    }
  }
}
