/**
 * Per-second ground truth of a rendered scene, measured on the stems as mixed: who sounds, how
 * loud, when each note starts. Questions' answers are computed from this alone.
 */
import type { Instrument } from '../../shared/question-space/index.js';
import { INSTRUMENT_VOICES } from './instrument-catalog.js';
import { gainToDb, rms } from './mixdown.js';
import type { ScenePlan } from './scene-plan.js';

/** A part sounds in a second when its RMS there is above this (dBFS). */
export const ACTIVE_DB = -50;
/** Loudness of a silent second (dBFS). */
const FLOOR_DB = -120;

export type Region = 'left' | 'middle' | 'right';

/** Thirds of the stage. */
export function regionOf(x: number): Region {
  return x < 0.4 ? 'left' : x > 0.6 ? 'right' : 'middle';
}

export interface PerformerTruth {
  readonly id: number;
  readonly instrument: Instrument;
  /** Stage position 0–1, null when off screen (heard, not seen). */
  readonly x: number | null;
  readonly region: Region | null;
  readonly soundfont: string;
  readonly program: number | 'percussion';
  /** Median MIDI pitch of its notes (null when it plays none or is unpitched). */
  readonly medianPitch: number | null;
  /** Note onsets in seconds. */
  readonly onsets: readonly number[];
  /** Per second: does it sound? */
  readonly active: readonly boolean[];
  /** Per second: RMS loudness in the mix, dBFS (−120 for silence). */
  readonly loudnessDb: readonly number[];
}

export interface SceneTruth {
  readonly id: string;
  readonly seconds: number;
  readonly sampleRate: number;
  readonly venue: 'indoor' | 'outdoor';
  readonly voiceover: {
    readonly start: number;
    readonly end: number;
    readonly text: string;
  } | null;
  readonly noiseDb: number | null;
  readonly performers: readonly PerformerTruth[];
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** `stems`: each performer's samples exactly as they went into the mix (scaled, before panning). */
export function measureSceneTruth(
  plan: ScenePlan,
  stems: ReadonlyMap<number, Float32Array>,
  sampleRate: number,
  voiceoverSeconds: number,
): SceneTruth {
  return {
    id: plan.id,
    seconds: plan.seconds,
    sampleRate,
    venue: plan.venue,
    voiceover: plan.voiceover && {
      start: plan.voiceover.start,
      end: Math.min(plan.seconds, plan.voiceover.start + voiceoverSeconds),
      text: plan.voiceover.text,
    },
    noiseDb: plan.noiseDb,
    performers: plan.performers.map((performer) => {
      const stem = stems.get(performer.id);
      if (!stem) throw new Error(`scene ${plan.id}: no stem for performer ${performer.id}`);
      const loudnessDb = Array.from({ length: plan.seconds }, (_, s) => {
        const level = rms(stem, s * sampleRate, (s + 1) * sampleRate);
        return level > 0 ? Math.max(FLOOR_DB, Math.round(gainToDb(level) * 10) / 10) : FLOOR_DB;
      });
      const voice = INSTRUMENT_VOICES[performer.instrument];
      return {
        id: performer.id,
        instrument: performer.instrument,
        x: performer.x === null ? null : Math.round(performer.x * 1000) / 1000,
        region: performer.x === null ? null : regionOf(performer.x),
        soundfont: performer.soundfont,
        program: voice.program,
        medianPitch:
          voice.program === 'percussion' ? null : median(performer.notes.map((note) => note.pitch)),
        onsets: performer.notes.map((note) => note.time),
        active: loudnessDb.map((db) => db > ACTIVE_DB),
        loudnessDb,
      };
    }),
  };
}
