import { describe, expect, it } from 'vitest';
import { codecRoundTrip } from '../server/evaluation/codec-round-trip.js';
import { degradeClip, parseDegradations } from '../server/evaluation/degrade-clip.js';
import {
  addNoise,
  biquad,
  changeLevel,
  convolve,
  drawSettings,
  filter,
  microphoneSections,
  reverberate,
  rms,
  roomImpulse,
} from '../server/evaluation/room-degradations.js';
import { Random } from '../server/synth/random.js';
import { degradeChannels } from '../server/cli/stereo-features.js';

const RATE = 16_000;
const sine = (hz: number, seconds = 1, amplitude = 0.5) =>
  Float32Array.from(
    { length: seconds * RATE },
    (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / RATE),
  );
const db = (ratio: number) => 20 * Math.log10(ratio);
/** Level of a filtered tone after the filter has settled (the first 0.2 s skipped). */
const settledGainDb = (input: Float32Array, output: Float32Array) =>
  db(rms(output.subarray(0.2 * RATE)) / rms(input.subarray(0.2 * RATE)));

describe('room and microphone degradations', () => {
  it('convolves as the direct sum does', () => {
    const random = new Random(3);
    const signal = Float32Array.from({ length: 300 }, () => random.float() - 0.5);
    const impulse = Float32Array.from({ length: 37 }, () => random.float() - 0.5);
    const direct = new Float32Array(signal.length);
    for (let n = 0; n < signal.length; n++)
      for (let k = 0; k <= Math.min(n, impulse.length - 1); k++)
        direct[n]! += impulse[k]! * signal[n - k]!;
    const fast = convolve(signal, impulse);
    for (let n = 0; n < signal.length; n++) expect(fast[n]).toBeCloseTo(direct[n]!, 4);
  });

  it('builds a room whose tail dies away by 60 dB over its RT60, and reverberates at the same level', () => {
    const impulse = roomImpulse(RATE, 0.8, new Random(1));
    expect(impulse.length).toBe(0.8 * RATE);
    const tenth = impulse.length / 10;
    const early = rms(impulse.subarray(1, tenth));
    const late = rms(impulse.subarray(impulse.length - tenth));
    expect(db(early / late)).toBeGreaterThan(45); // ~54 dB between the first and last tenths
    // A click in a room rings on after it; the whole keeps the dry level.
    const click = new Float32Array(RATE);
    click.fill(0.5, 1000, 1100);
    const wet = reverberate(click, impulse, 0);
    expect(rms(wet.subarray(4000, 8000))).toBeGreaterThan(0.01);
    expect(rms(wet)).toBeCloseTo(rms(click), 5);
  });

  it('filters as the cookbook says: high-pass, low-pass and a presence peak', () => {
    const highpass = [biquad('highpass', 100, RATE, Math.SQRT1_2)];
    expect(settledGainDb(sine(1000), filter(sine(1000), highpass))).toBeCloseTo(0, 0);
    expect(settledGainDb(sine(100), filter(sine(100), highpass))).toBeCloseTo(-3, 0);
    expect(settledGainDb(sine(25), filter(sine(25), highpass))).toBeLessThan(-20);
    const lowpass = [biquad('lowpass', 2000, RATE, Math.SQRT1_2)];
    expect(settledGainDb(sine(2000), filter(sine(2000), lowpass))).toBeCloseTo(-3, 0);
    const peak = [biquad('peaking', 3000, RATE, 1, 6)];
    expect(settledGainDb(sine(3000), filter(sine(3000), peak))).toBeCloseTo(6, 0);
    expect(settledGainDb(sine(200), filter(sine(200), peak))).toBeCloseTo(0, 0);
  });

  it('makes a microphone that drops the rumble and keeps the music', () => {
    for (let seed = 0; seed < 5; seed++) {
      const sections = microphoneSections(RATE, new Random(seed));
      expect(settledGainDb(sine(40), filter(sine(40), sections))).toBeLessThan(-20);
      expect(Math.abs(settledGainDb(sine(800), filter(sine(800), sections)))).toBeLessThan(3);
    }
  });

  it('adds noise at the signal-to-noise ratio asked, and changes level with clipping', () => {
    const clean = sine(440);
    const noisy = addNoise(clean, 15, RATE, new Random(2));
    const noise = noisy.map((x, n) => x - clean[n]!);
    expect(db(rms(clean) / rms(noise))).toBeCloseTo(15, 1);
    expect(rms(changeLevel(clean, -20)) / rms(clean)).toBeCloseTo(0.1, 5);
    expect(Math.max(...changeLevel(clean, 12))).toBe(1);
  });

  it('draws settings inside the ranges issue #11 names, the same for the same seed', () => {
    for (let seed = 0; seed < 50; seed++) {
      const random = new Random(seed);
      const noise = drawSettings('noise', random);
      const level = drawSettings('level', random);
      const codec = drawSettings('codec', random);
      const reverb = drawSettings('reverb', random);
      if (
        noise.kind !== 'noise' ||
        level.kind !== 'level' ||
        codec.kind !== 'codec' ||
        reverb.kind !== 'reverb'
      )
        throw new Error('wrong kind drawn');
      expect(noise.snrDb).toBeGreaterThanOrEqual(10);
      expect(noise.snrDb).toBeLessThan(30);
      expect(level.db).toBeGreaterThanOrEqual(-20);
      expect(level.db).toBeLessThan(10);
      expect([16, 24, 32]).toContain(codec.kbps);
      expect(reverb.rt60).toBeGreaterThanOrEqual(0.3);
    }
    expect(drawSettings('reverb', new Random(9))).toEqual(drawSettings('reverb', new Random(9)));
  });

  it('reads a chain of degradations, in the order a stage applies them, and refuses unknown ones', () => {
    expect(parseDegradations('all')).toEqual(['reverb', 'noise', 'mic-eq', 'level', 'codec']);
    expect(parseDegradations('codec+reverb')).toEqual(['reverb', 'codec']);
    expect(() => parseDegradations('reverb+echo')).toThrow(
      /unknown degradation "echo": use all or any of reverb, noise, mic-eq, level, codec joined by \+/,
    );
  });
});

describe('codec round trips through ffmpeg', () => {
  it.each([
    ['opus', 16],
    ['mp3', 32],
  ] as const)(
    'keeps a tone through %s at %i kb/s, the same length, at about the same level',
    async (codec, kbps) => {
      const tone = sine(440, 2, 0.3);
      const back = await codecRoundTrip(tone, RATE, codec, kbps);
      expect(back.length).toBe(tone.length);
      expect(
        Math.abs(db(rms(back.subarray(RATE / 2)) / rms(tone.subarray(RATE / 2)))),
      ).toBeLessThan(1.5);
      // Still a 440 Hz tone: it correlates with the original at some small lag.
      let best = 0;
      for (let lag = 0; lag < 2000; lag++) {
        let dot = 0;
        for (let n = RATE / 2; n < RATE; n++) dot += tone[n]! * back[n + lag]!;
        best = Math.max(best, dot / (rms(tone) * rms(back) * (RATE / 2)));
      }
      expect(best).toBeGreaterThan(0.9);
    },
  );

  it('chains every degradation over a clip and says what it drew', async () => {
    const clip = sine(330, 2, 0.3);
    const { samples, applied } = await degradeClip(
      clip,
      parseDegradations('all'),
      RATE,
      new Random(5),
    );
    expect(applied.map((a) => a.kind)).toEqual(['reverb', 'noise', 'mic-eq', 'level', 'codec']);
    expect(samples.length).toBe(clip.length);
    expect(samples.some((x, n) => Math.abs(x - clip[n]!) > 0.01)).toBe(true);
  });
});

describe('rooms in stereo', () => {
  it("each channel takes the room with the mono path's draws for that video", async () => {
    const clip = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / 7));
    const kinds = parseDegradations('reverb+noise+mic-eq+level');
    const mono = await degradeClip(clip, kinds, 16_000, Random.forItem(7, 3));
    const { left, right } = await degradeChannels(
      { left: clip, right: clip },
      { kinds, seed: 7 },
      3,
    );
    expect(Array.from(left)).toEqual(Array.from(mono.samples));
    expect(Array.from(right)).toEqual(Array.from(mono.samples));
    const other = await degradeChannels({ left: clip, right: clip }, { kinds, seed: 7 }, 4);
    expect(Array.from(other.left)).not.toEqual(Array.from(left));
  });
});
