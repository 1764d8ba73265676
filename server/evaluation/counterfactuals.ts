/**
 * Counterfactual inputs for the standing evaluation: what the model answers when it cannot hear
 * (silent audio), cannot see (a black picture), or hears another scene (audio swapped). A model
 * that listens must fall on audio questions without sound; one that looks, on visual questions
 * without a picture. Each rewrites the extracted front-end arrays in place before the encoders.
 */
import {
  SEGMENT_SAMPLES,
  segmentFrontend,
  type FrontendSpec,
} from '../features/segment-frontend.js';
import { BLACK_FRAME } from '../features/video/rgb-frame.js';

export const COUNTERFACTUALS = ['silent-audio', 'black-picture', 'swap-audio'] as const;
export type Counterfactual = (typeof COUNTERFACTUALS)[number];

export interface FrontendArrays {
  readonly fbank: Float32Array;
  readonly logMel: Float32Array;
  readonly pixels: Uint8Array;
  readonly videos: number;
  readonly segments: number;
}

export function isCounterfactual(name: string): name is Counterfactual {
  return (COUNTERFACTUALS as readonly string[]).includes(name);
}

/** The scene whose audio scene `video` gets: half the data set away, so never itself. */
export function swapPartner(video: number, videos: number): number {
  return (video + Math.max(1, Math.floor(videos / 2))) % videos;
}

export function applyCounterfactual(
  which: Counterfactual,
  arrays: FrontendArrays,
  spec: FrontendSpec,
): void {
  const total = arrays.videos * arrays.segments;
  const perFbank = arrays.fbank.length / total;
  const perLogMel = arrays.logMel.length / total;
  if (which === 'black-picture') {
    arrays.pixels.fill(0);
  } else if (which === 'silent-audio') {
    const silence = segmentFrontend(new Float32Array(SEGMENT_SAMPLES), BLACK_FRAME, spec);
    for (let s = 0; s < total; s++) {
      arrays.fbank.set(silence.fbank, s * perFbank);
      arrays.logMel.set(silence.logMel, s * perLogMel);
    }
  } else {
    const perVideoFbank = perFbank * arrays.segments;
    const perVideoLogMel = perLogMel * arrays.segments;
    const fbank = arrays.fbank.slice();
    const logMel = arrays.logMel.slice();
    for (let v = 0; v < arrays.videos; v++) {
      const from = swapPartner(v, arrays.videos);
      arrays.fbank.set(
        fbank.subarray(from * perVideoFbank, (from + 1) * perVideoFbank),
        v * perVideoFbank,
      );
      arrays.logMel.set(
        logMel.subarray(from * perVideoLogMel, (from + 1) * perVideoLogMel),
        v * perVideoLogMel,
      );
    }
  }
}
