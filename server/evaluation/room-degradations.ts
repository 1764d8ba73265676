/**
 * What a real room and microphone do to a clean mix, as pure functions on 16 kHz mono samples:
 * reverberation, a microphone's band limits and colour, background noise at a signal-to-noise
 * ratio, and level changes (codec round trips need ffmpeg: codec-round-trip.ts; degrade-clip.ts
 * chains them).
 * They measure how much answer quality a model loses outside the training mix (issue #11 §4),
 * and the same draws augment training data. Every draw comes from a seeded `Random`, so a
 * degraded data set is the same on every machine.
 */
import FFT from 'fft.js';
import type { Random } from '../synth/random.js';
import { nextPowerOfTwo } from '../features/audio/real-spectrum.js';

/** In the order a chain applies them: the room, its noise, the microphone, the desk, the link. */
export const DEGRADATIONS = ['reverb', 'noise', 'mic-eq', 'level', 'codec'] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

export function isDegradation(name: string): name is Degradation {
  return (DEGRADATIONS as readonly string[]).includes(name);
}

/** A room's impulse response: the direct sound, then noise decaying by 60 dB over `rt60` s. */
export function roomImpulse(sampleRate: number, rt60: number, random: Random): Float32Array {
  const length = Math.ceil(rt60 * sampleRate);
  const impulse = new Float32Array(length);
  const decayPerSample = Math.log(1000) / (rt60 * sampleRate); // amplitude −60 dB at rt60
  for (let n = 1; n < length; n++)
    impulse[n] = (random.float() * 2 - 1) * Math.exp(-decayPerSample * n);
  return impulse;
}

/** Linear convolution, truncated to the signal's length (FFT, one block: clips are seconds long). */
export function convolve(signal: Float32Array, impulse: Float32Array): Float32Array {
  const size = nextPowerOfTwo(signal.length + impulse.length - 1);
  const fft = new FFT(size);
  const spectrumOf = (x: Float32Array) => {
    const padded = new Float64Array(size);
    padded.set(x);
    const out = fft.createComplexArray() as number[];
    fft.realTransform(out, padded);
    fft.completeSpectrum(out);
    return out;
  };
  const a = spectrumOf(signal);
  const b = spectrumOf(impulse);
  const product = fft.createComplexArray() as number[];
  for (let k = 0; k < size; k++) {
    const [ar, ai, br, bi] = [a[2 * k]!, a[2 * k + 1]!, b[2 * k]!, b[2 * k + 1]!];
    product[2 * k] = ar * br - ai * bi;
    product[2 * k + 1] = ar * bi + ai * br;
  }
  const back = fft.createComplexArray() as number[];
  fft.inverseTransform(back, product);
  const out = new Float32Array(signal.length);
  for (let n = 0; n < out.length; n++) out[n] = back[2 * n]!;
  return out;
}

export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const x of samples) sum += x * x;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** Dry signal plus its reverberation, `directToReverberantDb` above it, at the dry's RMS. */
export function reverberate(
  samples: Float32Array,
  impulse: Float32Array,
  directToReverberantDb: number,
): Float32Array {
  const wet = convolve(samples, impulse);
  const wetGain = (rms(samples) / Math.max(rms(wet), 1e-12)) * 10 ** (-directToReverberantDb / 20);
  const mixed = new Float32Array(samples.length);
  for (let n = 0; n < mixed.length; n++) mixed[n] = samples[n]! + wetGain * wet[n]!;
  const keepLevel = rms(samples) / Math.max(rms(mixed), 1e-12);
  for (let n = 0; n < mixed.length; n++) mixed[n]! *= keepLevel;
  return mixed;
}

/** A second-order section's normalised coefficients (b0, b1, b2, a1, a2). */
export type Biquad = readonly [number, number, number, number, number];

/** RBJ audio-EQ cookbook filters: kind, centre or corner frequency, Q, gain (peaking only). */
export function biquad(
  kind: 'highpass' | 'lowpass' | 'peaking',
  frequency: number,
  sampleRate: number,
  q: number,
  gainDb = 0,
): Biquad {
  const w = (2 * Math.PI * frequency) / sampleRate;
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  let b: [number, number, number];
  let a: [number, number, number];
  if (kind === 'peaking') {
    const A = 10 ** (gainDb / 40);
    b = [1 + alpha * A, -2 * cos, 1 - alpha * A];
    a = [1 + alpha / A, -2 * cos, 1 - alpha / A];
  } else {
    const edge = kind === 'highpass' ? 1 + cos : 1 - cos;
    const middle = kind === 'highpass' ? -(1 + cos) : 1 - cos;
    b = [edge / 2, middle, edge / 2];
    a = [1 + alpha, -2 * cos, 1 - alpha];
  }
  return [b[0] / a[0], b[1] / a[0], b[2] / a[0], a[1] / a[0], a[2] / a[0]];
}

/** Runs the samples through second-order sections in turn (direct form I). */
export function filter(samples: Float32Array, sections: readonly Biquad[]): Float32Array {
  let x = samples;
  for (const [b0, b1, b2, a1, a2] of sections) {
    const y = new Float32Array(x.length);
    let [x1, x2, y1, y2] = [0, 0, 0, 0];
    for (let n = 0; n < x.length; n++) {
      const out = b0 * x[n]! + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      [x2, x1, y2, y1] = [x1, x[n]!, y1, out];
      y[n] = out;
    }
    x = y;
  }
  return x;
}

/**
 * A microphone: nothing below ~100 Hz (fourth-order high-pass), a roll-off towards 8 kHz, and a
 * presence bump or dip somewhere in 1.5–5 kHz, as cheap stage microphones colour a mix.
 */
export function microphoneSections(sampleRate: number, random: Random): Biquad[] {
  const top = Math.min(random.range(6000, 8000), 0.45 * sampleRate);
  return [
    biquad('highpass', random.range(90, 130), sampleRate, Math.SQRT1_2),
    biquad('highpass', random.range(90, 130), sampleRate, Math.SQRT1_2),
    biquad('peaking', random.range(1500, 5000), sampleRate, 1, random.range(-6, 6)),
    biquad('lowpass', top, sampleRate, Math.SQRT1_2),
  ];
}

/** Adds noise `snrDb` under the signal (pink-ish: white noise through a gentle low-pass). */
export function addNoise(
  samples: Float32Array,
  snrDb: number,
  sampleRate: number,
  random: Random,
): Float32Array {
  const white = new Float32Array(samples.length);
  for (let n = 0; n < white.length; n++) white[n] = random.float() * 2 - 1;
  const noise = filter(white, [biquad('lowpass', 2000, sampleRate, 0.5)]);
  const gain = (rms(samples) / Math.max(rms(noise), 1e-12)) * 10 ** (-snrDb / 20);
  const out = new Float32Array(samples.length);
  for (let n = 0; n < out.length; n++) out[n] = samples[n]! + gain * noise[n]!;
  return out;
}

/** A level change by `db`, clipped as a converter clips. */
export function changeLevel(samples: Float32Array, db: number): Float32Array {
  const gain = 10 ** (db / 20);
  return samples.map((x) => Math.max(-1, Math.min(1, x * gain)));
}

/** One draw of a degradation's settings, as the evaluation and the augmentation use them. */
export type DegradationSettings =
  | { kind: 'reverb'; rt60: number; directToReverberantDb: number }
  | { kind: 'mic-eq' }
  | { kind: 'noise'; snrDb: number }
  | { kind: 'codec'; codec: 'opus' | 'mp3'; kbps: number }
  | { kind: 'level'; db: number };

/** Settings for one clip, from the ranges issue #11 names (reverb, 100 Hz–8 kHz EQ, 10–30 dB SNR…). */
export function drawSettings(kind: Degradation, random: Random): DegradationSettings {
  switch (kind) {
    case 'reverb':
      return { kind, rt60: random.range(0.3, 1.2), directToReverberantDb: random.range(-3, 9) };
    case 'mic-eq':
      return { kind };
    case 'noise':
      return { kind, snrDb: random.range(10, 30) };
    case 'codec':
      return { kind, codec: random.chance(0.5) ? 'opus' : 'mp3', kbps: random.pick([16, 24, 32]) };
    case 'level':
      return { kind, db: random.range(-20, 10) };
  }
}

/** Applies a drawn degradation that needs no external program (all but `codec`). */
export function degradeInMemory(
  samples: Float32Array,
  settings: Exclude<DegradationSettings, { kind: 'codec' }>,
  sampleRate: number,
  random: Random,
): Float32Array {
  switch (settings.kind) {
    case 'reverb':
      return reverberate(
        samples,
        roomImpulse(sampleRate, settings.rt60, random),
        settings.directToReverberantDb,
      );
    case 'mic-eq':
      return filter(samples, microphoneSections(sampleRate, random));
    case 'noise':
      return addNoise(samples, settings.snrDb, sampleRate, random);
    case 'level':
      return changeLevel(samples, settings.db);
  }
}
