/** A clip through a chain of degradations, each with settings drawn for that clip. */
import type { Random } from '../synth/random.js';
import { codecRoundTrip } from './codec-round-trip.js';
import {
  DEGRADATIONS,
  degradeInMemory,
  drawSettings,
  isDegradation,
  type Degradation,
  type DegradationSettings,
} from './room-degradations.js';

/** `reverb`, `noise+codec`, … or `all`: the chain in DEGRADATIONS' order, checked. */
export function parseDegradations(spec: string): Degradation[] {
  if (spec === 'all') return [...DEGRADATIONS];
  const kinds = spec.split('+');
  const unknown = kinds.filter((kind) => !isDegradation(kind));
  if (unknown.length > 0 || kinds.length === 0)
    throw new Error(
      `unknown degradation "${unknown.join('+') || spec}": use all or any of ${DEGRADATIONS.join(', ')} joined by +`,
    );
  return DEGRADATIONS.filter((kind) => kinds.includes(kind));
}

export async function degradeClip(
  samples: Float32Array,
  kinds: readonly Degradation[],
  sampleRate: number,
  random: Random,
): Promise<{ samples: Float32Array; applied: DegradationSettings[] }> {
  const applied: DegradationSettings[] = [];
  let out = samples;
  for (const kind of DEGRADATIONS.filter((k) => kinds.includes(k))) {
    const settings = drawSettings(kind, random);
    applied.push(settings);
    out =
      settings.kind === 'codec'
        ? await codecRoundTrip(out, sampleRate, settings.codec, settings.kbps)
        : degradeInMemory(out, settings, sampleRate, random);
  }
  return { samples: out, applied };
}
