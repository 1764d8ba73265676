import { describe, expect, it } from 'vitest';
import { AudioInputError } from '../server/features/audio/audio-input-error.js';
import { createResampler } from '../server/features/audio/resample.js';

function tone(frequency: number, rate: number, frames: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: frames },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate),
  );
}

/** Interleaves channels into frames × channels. */
function interleave(...channels: Float32Array[]): Float32Array {
  const out = new Float32Array(channels[0]!.length * channels.length);
  channels.forEach((channel, c) =>
    channel.forEach((sample, f) => (out[f * channels.length + c] = sample)),
  );
  return out;
}

/** Amplitude of `frequency` in `samples` (a single-bin DFT over whole periods). */
function amplitudeAt(samples: Float32Array, frequency: number, rate: number, from = 1600): number {
  let re = 0;
  let im = 0;
  const n = samples.length - from;
  for (let i = from; i < samples.length; i++) {
    re += samples[i]! * Math.cos((2 * Math.PI * frequency * i) / rate);
    im += samples[i]! * Math.sin((2 * Math.PI * frequency * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / n;
}

describe('resampling to 16 kHz', () => {
  it('keeps a 1 kHz tone in place and removes a 10 kHz one (no aliasing to 6 kHz)', async () => {
    const resampler = await createResampler({ inputRate: 48_000, channels: 1 });
    const input = tone(1000, 48_000, 48_000);
    const alias = tone(10_000, 48_000, 48_000, 0.3);
    const { mono } = resampler.push(input.map((sample, i) => sample + alias[i]!));
    expect(mono.length).toBeGreaterThan(15_900);
    expect(amplitudeAt(mono, 1000, 16_000)).toBeCloseTo(0.5, 2);
    // 10 kHz would fold to 6 kHz: it must be at least 60 dB down.
    expect(amplitudeAt(mono, 6000, 16_000)).toBeLessThan(0.3e-3);
    // In phase: output sample k is input time k / 16000.
    const expected = tone(1000, 16_000, mono.length);
    let worst = 0;
    for (let i = 1600; i < mono.length; i++)
      worst = Math.max(worst, Math.abs(mono[i]! - expected[i]!));
    expect(worst).toBeLessThan(0.01);
    resampler.close();
  });

  it('keeps stereo channels apart and mixes mono as their mean', async () => {
    const resampler = await createResampler({ inputRate: 44_100, channels: 2 });
    const left = tone(440, 44_100, 44_100);
    const right = new Float32Array(44_100);
    const { channels, mono } = resampler.push(interleave(left, right));
    expect(channels).toHaveLength(2);
    expect(amplitudeAt(channels[0]!, 440, 16_000)).toBeCloseTo(0.5, 2);
    expect(amplitudeAt(channels[1]!, 440, 16_000)).toBeLessThan(1e-4);
    mono.forEach((sample, i) =>
      expect(sample).toBeCloseTo((channels[0]![i]! + channels[1]![i]!) / 2, 6),
    );
  });

  it('gives the same output whatever the chunking', async () => {
    const input = interleave(tone(523, 48_000, 24_000), tone(1500, 48_000, 24_000, 0.2));
    const whole = await createResampler({ inputRate: 48_000, channels: 2 });
    const chunked = await createResampler({ inputRate: 48_000, channels: 2 });
    const expected = whole.push(input).mono;
    const parts: Float32Array[] = [];
    for (let offset = 0, i = 0; offset < input.length; i++) {
      const frames = [1, 7, 960, 333, 4096][i % 5]!;
      parts.push(chunked.push(input.subarray(offset, offset + frames * 2)).mono);
      offset += frames * 2;
    }
    const joined = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
    parts.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
    expect(joined).toEqual(expected);
  });

  it('passes 16 kHz through untouched', async () => {
    const resampler = await createResampler({ inputRate: 16_000, channels: 1 });
    const input = tone(1000, 16_000, 1600);
    expect(resampler.push(input).mono).toEqual(input);
  });

  it('refuses bad rates, channel counts and chunks', async () => {
    await expect(createResampler({ inputRate: 0, channels: 1 })).rejects.toThrow(
      /input sample rate must be between/,
    );
    await expect(createResampler({ inputRate: 48_000, channels: 0 })).rejects.toThrow(
      /channel count must be an integer from 1 to 8, got 0/,
    );
    const resampler = await createResampler({ inputRate: 48_000, channels: 2 });
    expect(() => resampler.push(new Float32Array(3))).toThrow(
      /3 samples is not a whole number of 2-channel frames/,
    );
    expect(() => resampler.push(Float32Array.of(0, Number.NaN))).toThrow(AudioInputError);
    resampler.close();
    expect(() => resampler.push(new Float32Array(2))).toThrow(/closed/);
  });
});
