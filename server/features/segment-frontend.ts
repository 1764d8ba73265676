/**
 * The front-end of one-second segments, as a model manifest describes it: AST fbank (padded to a
 * fixed frame count, normalised), one VGGish example, and the segment's frame resized for the
 * frame encoder. The same code serves training extraction and the live monitor (no skew).
 */
import { astInput } from './audio/ast-input.js';
import { AudioInputError, assertFiniteSamples } from './audio/audio-input-error.js';
import { kaldiFbank } from './audio/kaldi-fbank.js';
import { VGGISH, vggishExamples, vggishLogMel } from './audio/vggish-log-mel.js';
import { clipPixels, resizeCropWindow } from './video/clip-preprocess.js';
import { pilBicubicResizeWindow, type ResizeWindow } from './video/pil-bicubic.js';
import { assertRgbFrame, type RgbFrame } from './video/rgb-frame.js';

export const SEGMENT_SAMPLES = 16_000;

export interface FrontendSpec {
  /** AST input frames per segment (1 s gives 98; padded). */
  readonly astFrames: number;
  /** Frame size the frame encoder takes (the whole frame is resized, not cropped). */
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** `centre-crop` (CLIP's recipe) needs a square frame size. */
  readonly frameResize?: 'squash' | 'centre-crop';
}

export interface SegmentFrontend {
  /** astFrames × 128, AST-normalised. */
  readonly fbank: Float32Array;
  /** 96 × 64 VGGish log-mel. */
  readonly logMel: Float32Array;
  /** frameHeight × frameWidth × 3 RGB bytes. */
  readonly pixels: Uint8Array;
}

export function segmentFrontend(
  samples: Float32Array,
  frame: RgbFrame,
  spec: FrontendSpec,
): SegmentFrontend {
  assertSegmentSamples(samples);
  const pixels = segmentPixels(frame, spec);
  return { ...segmentAudio(samples, spec.astFrames), pixels };
}

/** The audio half, in TypeScript: AST's fbank and VGGish's first log-mel example. */
export function segmentAudio(samples: Float32Array, astFrames: number) {
  const logMel = vggishExamples(vggishLogMel(samples)).data.subarray(
    0,
    VGGISH.exampleFrames * VGGISH.melBins,
  );
  return { fbank: astInput(kaldiFbank(samples), astFrames), logMel: Float32Array.from(logMel) };
}

/**
 * A segment's audio is 1 s of finite samples; checked before any front-end sees it (the ONNX
 * graph would carry a NaN into the features instead of refusing it).
 */
export function assertSegmentSamples(samples: Float32Array): void {
  if (samples.length !== SEGMENT_SAMPLES) {
    throw new AudioInputError(
      `a segment is ${SEGMENT_SAMPLES} samples (1 s at 16 kHz), got ${samples.length}`,
    );
  }
  assertFiniteSamples(samples, 'audio chunk');
}

/** The picture half: the frame as the frame encoder takes it (RGB bytes). */
export function segmentPixels(frame: RgbFrame, spec: FrontendSpec): Uint8Array {
  assertRgbFrame(frame);
  if (spec.frameResize === 'centre-crop') return clipPixels(frame, spec.frameWidth);
  return pilBicubicResizeWindow(frame.data, frame.width, frame.height, pixelWindow(frame, spec));
}

/** What of the resized frame the encoder sees: CLIP's centred square, or all of it squashed. */
export function pixelWindow(frame: RgbFrame, spec: FrontendSpec): ResizeWindow {
  if (spec.frameResize === 'centre-crop')
    return resizeCropWindow(frame.width, frame.height, spec.frameWidth);
  const { frameWidth: width, frameHeight: height } = spec;
  return { outWidth: width, outHeight: height, left: 0, top: 0, width, height };
}
