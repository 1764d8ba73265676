import { describe, expect, it } from 'vitest';
import { AudioInputError } from '../server/features/audio/audio-input-error.js';
import { STEREO_BANDS, meanBandPower, stereoBands } from '../server/features/audio/stereo-bands.js';
import { panGains } from '../server/synth/mixdown.js';

const RATE = 16_000;
const tone = (hz: number, amplitude = 0.5) =>
  Float32Array.from(
    { length: RATE },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE),
  );
const scaled = (x: Float32Array, gain: number) => x.map((v) => v * gain);
const argmax = (x: ArrayLike<number>) => Array.from(x).indexOf(Math.max(...Array.from(x)));

describe('stereo band power: where a sound stands, per mel band', () => {
  it('a tone panned left of centre is louder on the left by the pan law, in its own band', () => {
    const mono = tone(1000);
    const [gainLeft, gainRight] = panGains(0.25); // as the scenes' mixdown pans a performer
    const bands = stereoBands(scaled(mono, gainLeft), scaled(mono, gainRight));
    const left = bands.subarray(0, STEREO_BANDS);
    const right = bands.subarray(STEREO_BANDS);
    const peak = argmax(left);
    expect(argmax(right)).toBe(peak);
    expect(argmax(meanBandPower(mono))).toBe(peak);
    expect(left[peak]! / right[peak]!).toBeCloseTo((gainLeft / gainRight) ** 2, 3);
    // 1 kHz sits in the lower half of VGGish's 64 bands (125 Hz – 7.5 kHz, mel spaced).
    expect(peak).toBeGreaterThan(10);
    expect(peak).toBeLessThan(32);
  });

  it('is power: parts in different bands add, and twice the amplitude is four times the power', () => {
    const low = tone(500);
    const high = tone(3000, 0.2);
    const both = low.map((v, i) => v + high[i]!);
    const sum = meanBandPower(low).map((v, i) => v + meanBandPower(high)[i]!);
    const mixed = meanBandPower(both);
    const total = (x: Float64Array) => x.reduce((a, b) => a + b, 0);
    expect(Math.abs(total(mixed) - total(sum)) / total(sum)).toBeLessThan(0.01);
    const louder = meanBandPower(scaled(low, 2));
    expect(total(louder) / total(meanBandPower(low))).toBeCloseTo(4, 4);
  });

  it('a mono source gives left = right (the head then keeps its mono loudness)', () => {
    const mono = tone(700);
    const bands = stereoBands(mono, mono);
    expect(Array.from(bands.subarray(0, STEREO_BANDS))).toEqual(
      Array.from(bands.subarray(STEREO_BANDS)),
    );
    expect(Math.max(...bands)).toBeGreaterThan(0);
  });

  it('refuses a channel too short for one frame, with a clear error', () => {
    expect(() => stereoBands(new Float32Array(100), new Float32Array(100))).toThrow(
      AudioInputError,
    );
  });
});
