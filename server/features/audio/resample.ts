/**
 * Any input rate and channel count → 16 kHz (the encoders' rate), with libsamplerate's
 * band-limited sinc interpolation (its anti-aliasing filter) via WebAssembly. Channels are kept
 * apart (left/right cues) and also mixed to mono (their mean, as VGGish and ffmpeg -ac 1 do).
 * Streaming: state carries over between pushes, so chunking does not change the output. The
 * converter holds back a few milliseconds of look-ahead; output sample k is input time k / 16000.
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { AudioInputError, assertFiniteSamples } from './audio-input-error.js';

const { create, ConverterType } = libsamplerate;

export const MODEL_SAMPLE_RATE = 16_000;

export interface ResampledAudio {
  /** One array per input channel, at the output rate. */
  readonly channels: Float32Array[];
  /** Mean of the channels. */
  readonly mono: Float32Array;
}

export interface ResamplerOptions {
  readonly inputRate: number;
  readonly channels: number;
  readonly outputRate?: number;
  /** libsamplerate converter: 'best' passes 97% of the band, 'medium' 90%, 'fastest' 80%. */
  readonly quality?: 'best' | 'medium' | 'fastest';
}

export interface AudioResampler {
  readonly inputRate: number;
  readonly outputRate: number;
  readonly channelCount: number;
  /** Interleaved samples in (frames × channels); what is ready comes out. */
  push(interleaved: Float32Array): ResampledAudio;
  close(): void;
}

const CONVERTERS = {
  best: ConverterType.SRC_SINC_BEST_QUALITY,
  medium: ConverterType.SRC_SINC_MEDIUM_QUALITY,
  fastest: ConverterType.SRC_SINC_FASTEST,
} as const;

function split(interleaved: Float32Array, channelCount: number): ResampledAudio {
  const frames = interleaved.length / channelCount;
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  const mono = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channelCount; c++) {
      const sample = interleaved[f * channelCount + c]!;
      channels[c]![f] = sample;
      sum += sample;
    }
    mono[f] = sum / channelCount;
  }
  return { channels, mono };
}

export async function createResampler(options: ResamplerOptions): Promise<AudioResampler> {
  const {
    inputRate,
    channels: channelCount,
    outputRate = MODEL_SAMPLE_RATE,
    quality = 'medium',
  } = options;
  for (const [name, rate] of [
    ['input', inputRate],
    ['output', outputRate],
  ] as const) {
    if (!Number.isFinite(rate) || rate < 1000 || rate > 384_000) {
      throw new AudioInputError(
        `${name} sample rate must be between 1000 and 384000 Hz, got ${rate}`,
      );
    }
  }
  if (!Number.isInteger(channelCount) || channelCount < 1 || channelCount > 8) {
    throw new AudioInputError(`channel count must be an integer from 1 to 8, got ${channelCount}`);
  }
  const converter =
    inputRate === outputRate
      ? undefined
      : await create(channelCount, inputRate, outputRate, { converterType: CONVERTERS[quality] });
  let closed = false;

  return {
    inputRate,
    outputRate,
    channelCount,
    push(interleaved) {
      if (closed) throw new AudioInputError('resampler is closed');
      if (interleaved.length % channelCount !== 0) {
        throw new AudioInputError(
          `chunk of ${interleaved.length} samples is not a whole number of ${channelCount}-channel frames`,
        );
      }
      assertFiniteSamples(interleaved, 'audio chunk');
      if (interleaved.length === 0) return split(interleaved, channelCount);
      return split(converter ? converter.full(interleaved) : interleaved, channelCount);
    },
    close() {
      closed = true;
      converter?.destroy();
    },
  };
}
