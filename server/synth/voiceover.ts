/** Spoken words (espeak-ng) at 16 kHz mono, for "Is there a voiceover?" scenes. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import wavefile from 'wavefile';
import { createResampler } from '../features/audio/resample.js';
import { STEM_RATE } from './render-stems.js';

const run = promisify(execFile);

export async function speak(text: string): Promise<Float32Array> {
  const { stdout } = await run('espeak-ng', ['--stdout', '-s', '150', '-v', 'en', text], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: Error) => {
    throw new Error(`espeak-ng failed: ${error.message}`);
  });
  const wav = new wavefile.WaveFile(new Uint8Array(stdout));
  const format = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  if (format.numChannels !== 1 || format.bitsPerSample !== 16) {
    throw new Error(
      `espeak-ng gave ${format.numChannels} channel(s) of ${format.bitsPerSample} bits; expected mono 16-bit`,
    );
  }
  const samples = Float32Array.from(
    wav.getSamples(false, Float64Array) as Float64Array,
    (v) => v / 32768,
  );
  const resampler = await createResampler({
    inputRate: format.sampleRate,
    channels: 1,
    outputRate: STEM_RATE,
  });
  try {
    return resampler.push(samples).mono;
  } finally {
    resampler.close();
  }
}
