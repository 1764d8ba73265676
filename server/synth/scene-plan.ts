/**
 * Draws a rehearsal scene from a seed: who is on stage, where, what each one plays (a seeded
 * score: when, how loud, how rhythmic), and the room. Pure: no audio or pixels here.
 */
import { INSTRUMENTS, type Instrument } from '../../shared/question-space/index.js';
import {
  INSTRUMENT_VOICES,
  LOOKALIKE_PAIRS,
  TRAINING_SOUNDFONTS,
  type SoundfontName,
} from './instrument-catalog.js';
import type { Random } from './random.js';

export interface Note {
  /** Seconds from the start of the scene (on the MIDI tick grid, 1/960 s). */
  readonly time: number;
  readonly duration: number;
  readonly pitch: number;
  readonly velocity: number;
}

export interface PerformerPlan {
  readonly id: number;
  readonly instrument: Instrument;
  /** Horizontal stage position, 0 = left edge, 1 = right edge; null when off screen. */
  readonly x: number | null;
  readonly soundfont: SoundfontName;
  /** Target loudness of the part while it plays, dBFS RMS. */
  readonly gainDb: number;
  /** Notes per second while playing: how rhythmic the part is. */
  readonly notesPerSecond: number;
  /** Reverb send (GM CC91, 0–127). */
  readonly reverb: number;
  readonly notes: readonly Note[];
}

export interface ScenePlan {
  readonly id: string;
  readonly seconds: number;
  readonly venue: 'indoor' | 'outdoor';
  readonly performers: readonly PerformerPlan[];
  /** Spoken words over the music, or null. */
  readonly voiceover: { readonly start: number; readonly text: string } | null;
  /** Room noise level in dBFS RMS, or null for none. */
  readonly noiseDb: number | null;
}

export const TICKS_PER_SECOND = 960;
const onGrid = (seconds: number) => Math.round(seconds * TICKS_PER_SECOND) / TICKS_PER_SECOND;

const VOICEOVER_LINES = [
  'Good evening and welcome to tonight’s rehearsal.',
  'This next piece was written for our ensemble.',
  'Please take your seats, the concert is about to begin.',
  'Thank you all for coming to the performance.',
];

const NOTE_RATES = [0.5, 1, 1.5, 2, 3, 4, 6] as const;

function performerCount(random: Random): number {
  const roll = random.float();
  return roll < 0.15 ? 1 : roll < 0.45 ? 2 : roll < 0.75 ? 3 : roll < 0.9 ? 4 : 5;
}

function chooseInstruments(random: Random, count: number): Instrument[] {
  const chosen: Instrument[] = [];
  if (count >= 2 && random.chance(0.25)) chosen.push(...random.pick(LOOKALIKE_PAIRS));
  while (chosen.length < count) {
    // Some scenes hold two of a kind, so counting and "which one first" questions have answers.
    const duplicate = chosen.length > 0 && random.chance(0.2);
    chosen.push(duplicate ? random.pick(chosen) : random.pick(INSTRUMENTS));
  }
  return random.shuffle(chosen);
}

/** Evenly spaced slots across the stage with a little jitter. */
function stagePositions(random: Random, count: number): number[] {
  if (count === 1) return [0.5 + random.range(-0.03, 0.03)];
  return Array.from(
    { length: count },
    (_, i) => 0.12 + (0.76 * i) / (count - 1) + random.range(-0.03, 0.03),
  );
}

interface Timing {
  entry: number;
  exit: number;
  rest: { from: number; to: number } | null;
}

function partTiming(random: Random, seconds: number, entry: number): Timing {
  const exit = random.chance(0.6)
    ? seconds
    : onGrid(random.range(Math.min(entry + 2, seconds - 0.5), seconds));
  let rest: Timing['rest'] = null;
  if (exit - entry > 5 && random.chance(0.3)) {
    const from = onGrid(random.range(entry + 1, exit - 3.5));
    rest = { from, to: onGrid(from + random.range(1.5, 2.5)) };
  }
  return { entry, exit, rest };
}

/** C major: the five degrees outside it each sit a semitone above one inside. */
function snapToMajorScale(pitch: number): number {
  return [1, 3, 6, 8, 10].includes(pitch % 12) ? pitch - 1 : pitch;
}

function notesFor(random: Random, instrument: Instrument, rate: number, timing: Timing): Note[] {
  const voice = INSTRUMENT_VOICES[instrument];
  const period = 1 / rate;
  const notes: Note[] = [];
  let pitch = random.int(voice.low, voice.high);
  for (let time = timing.entry; time < timing.exit - 0.05; time += period) {
    if (timing.rest && time >= timing.rest.from && time < timing.rest.to) continue;
    // The first note always sounds, so the entry time is the first onset.
    if (notes.length > 0 && random.chance(0.08)) continue;
    const duration =
      voice.articulation === 'sustained'
        ? period * 0.92
        : voice.articulation === 'plucked'
          ? Math.min(0.4, period * 0.8)
          : 0.1;
    const end = Math.min(
      time + duration,
      timing.exit,
      timing.rest && time < timing.rest.from ? timing.rest.from : Infinity,
    );
    let notePitch: number;
    if (voice.keys) {
      notePitch = random.pick(voice.keys);
    } else {
      // A random walk on a major scale within the instrument's range.
      pitch = Math.min(voice.high, Math.max(voice.low, pitch + random.int(-3, 3)));
      notePitch = Math.max(voice.low, snapToMajorScale(pitch));
    }
    notes.push({
      time: onGrid(time),
      duration: Math.max(0.05, onGrid(end - time)),
      pitch: notePitch,
      velocity: random.int(85, 105),
    });
  }
  return notes;
}

export interface PlanOptions {
  readonly seconds: number;
  /** Every stem in this soundfont (the draw still happens, so the scene is otherwise the same). */
  readonly soundfont?: SoundfontName;
}

export function planScene(random: Random, id: string, options: PlanOptions): ScenePlan {
  const { seconds } = options;
  const count = performerCount(random);
  const instruments = chooseInstruments(random, count);
  const positions = random.shuffle(stagePositions(random, count));
  // Visible performers may stay silent (a question about who did not play needs them), but at
  // least one plays. An off-screen player sometimes sounds too.
  const silent = instruments.map((_, i) => count > 1 && i > 0 && random.chance(0.15));
  const offscreen = random.chance(0.12) ? [random.pick(INSTRUMENTS)] : [];
  const everyone = [...instruments, ...offscreen];
  const allTogether = random.chance(0.3);

  const entries = everyone.map(() =>
    allTogether ? 0 : onGrid(Math.round(random.range(0, seconds * 0.6) * 4) / 4),
  );
  // Two of a kind sometimes come in together ("simultaneously").
  everyone.forEach((instrument, i) => {
    const twin = everyone.findIndex((other, j) => j < i && other === instrument);
    if (twin >= 0 && random.chance(0.4)) entries[i] = entries[twin]!;
  });

  const performers: PerformerPlan[] = everyone.map((instrument, i) => {
    const rate = random.pick(NOTE_RATES);
    const timing = partTiming(random, seconds, entries[i]!);
    return {
      id: i,
      instrument,
      x: i < count ? positions[i]! : null,
      soundfont: ((drawn) => options.soundfont ?? drawn)(random.pick(TRAINING_SOUNDFONTS)),
      gainDb: Math.round(random.range(-32, -14)),
      notesPerSecond: rate,
      reverb: random.int(10, 70),
      notes: i < count && silent[i] ? [] : notesFor(random, instrument, rate, timing),
    };
  });

  return {
    id,
    seconds,
    venue: random.chance(0.6) ? 'indoor' : 'outdoor',
    performers,
    voiceover: random.chance(0.2)
      ? {
          start: onGrid(random.range(0, Math.max(0, seconds - 4))),
          text: random.pick(VOICEOVER_LINES),
        }
      : null,
    noiseDb: random.chance(0.5) ? Math.round(random.range(-66, -58)) : null,
  };
}
