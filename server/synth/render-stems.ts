/**
 * Renders performers' parts to mono stems with FluidSynth and real sampled soundfonts.
 *
 * Loading a soundfont costs up to a second (MuseScore's is compressed), rendering is ~200× real
 * time, so many stems are rendered per FluidSynth run: one MIDI file per soundfont holding every
 * stem of a batch one after another, each in its own segment with a silent gap for the reverb
 * tail, then cut apart again.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeMidi, type MidiEvent } from 'midi-file';
import { INSTRUMENT_VOICES, SOUNDFONTS, type SoundfontName } from './instrument-catalog.js';
import { TICKS_PER_SECOND, type PerformerPlan } from './scene-plan.js';

const run = promisify(execFile);

export const STEM_RATE = 16_000;
/** Silence between stems in one render: longer than FluidSynth's reverb tail. */
const GAP_SECONDS = 3;

export interface StemRequest {
  readonly key: string;
  readonly performer: PerformerPlan;
}

type TimedEvent = { tick: number; order: number; event: MidiEvent };

function stemEvents(performer: PerformerPlan, startTick: number, endTick: number): TimedEvent[] {
  const voice = INSTRUMENT_VOICES[performer.instrument];
  const channel = voice.program === 'percussion' ? 9 : 0;
  const control = (controllerType: number, value: number, order = 0): TimedEvent => ({
    tick: startTick,
    order,
    event: { deltaTime: 0, type: 'controller', channel, controllerType, value },
  });
  const events: TimedEvent[] = [
    control(121, 0), // reset controllers
    control(7, 127, 1), // channel volume: loudness is set in the mix
    control(10, 64, 1), // centre: panning is done in the mix
    control(91, performer.reverb, 1),
    control(93, 0, 1), // no chorus
  ];
  if (voice.program !== 'percussion') {
    events.push({
      tick: startTick,
      order: 2,
      event: { deltaTime: 0, type: 'programChange', channel, programNumber: voice.program },
    });
  }
  for (const note of performer.notes) {
    const on = startTick + Math.round(note.time * TICKS_PER_SECOND);
    const off = on + Math.max(1, Math.round(note.duration * TICKS_PER_SECOND));
    events.push({
      tick: on,
      order: 4,
      event: {
        deltaTime: 0,
        type: 'noteOn',
        channel,
        noteNumber: note.pitch,
        velocity: note.velocity,
      },
    });
    events.push({
      tick: off,
      order: 3,
      event: { deltaTime: 0, type: 'noteOff', channel, noteNumber: note.pitch, velocity: 0 },
    });
  }
  // Silence everything before the next stem's segment.
  events.push({
    tick: endTick,
    order: 0,
    event: { deltaTime: 0, type: 'controller', channel, controllerType: 123, value: 0 },
  });
  events.push({
    tick: endTick,
    order: 0,
    event: { deltaTime: 0, type: 'controller', channel, controllerType: 120, value: 0 },
  });
  return events;
}

/** A format-0 MIDI file at 120 bpm, 480 ticks per beat: 960 ticks per second. */
export function batchMidi(
  performers: readonly PerformerPlan[],
  segmentSeconds: number,
): Uint8Array {
  const timed = performers.flatMap((performer, k) =>
    stemEvents(
      performer,
      k * segmentSeconds * TICKS_PER_SECOND,
      ((k + 1) * segmentSeconds - GAP_SECONDS / 2) * TICKS_PER_SECOND,
    ),
  );
  timed.sort((a, b) => a.tick - b.tick || a.order - b.order);
  let previous = 0;
  const track: MidiEvent[] = [
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: 500_000 },
  ];
  for (const { tick, event } of timed) {
    track.push({ ...event, deltaTime: tick - previous });
    previous = tick;
  }
  track.push({ deltaTime: GAP_SECONDS * TICKS_PER_SECOND, meta: true, type: 'endOfTrack' });
  return Uint8Array.from(
    writeMidi({ header: { format: 0, numTracks: 1, ticksPerBeat: 480 }, tracks: [track] }),
  );
}

async function renderWithFluidSynth(
  midi: Uint8Array,
  soundfont: SoundfontName,
  workDir: string,
): Promise<Float32Array> {
  const midiPath = path.join(workDir, `${soundfont}.mid`);
  const rawPath = path.join(workDir, `${soundfont}.f32`);
  await writeFile(midiPath, midi);
  await run(
    'fluidsynth',
    [
      '-ni',
      '-q',
      '-g',
      '0.5',
      '-r',
      String(STEM_RATE),
      '-o',
      'synth.dynamic-sample-loading=1',
      '-o',
      'synth.polyphony=256',
      '-T',
      'raw',
      '-O',
      'float',
      '-E',
      'little',
      '-F',
      rawPath,
      SOUNDFONTS[soundfont],
      midiPath,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: Error & { stderr?: string }) => {
    throw new Error(
      `fluidsynth failed on ${SOUNDFONTS[soundfont]}: ${error.stderr || error.message}`,
    );
  });
  const bytes = await readFile(rawPath);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Mono stems of `seconds` at 16 kHz, one per request, keyed by request key. */
export async function renderStems(
  requests: readonly StemRequest[],
  seconds: number,
): Promise<Map<string, Float32Array>> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'tutti-stems-'));
  const segment = seconds + GAP_SECONDS;
  const stems = new Map<string, Float32Array>();
  try {
    const bySoundfont = new Map<SoundfontName, StemRequest[]>();
    for (const request of requests) {
      if (request.performer.notes.length === 0) {
        stems.set(request.key, new Float32Array(seconds * STEM_RATE));
        continue;
      }
      const list = bySoundfont.get(request.performer.soundfont) ?? [];
      list.push(request);
      bySoundfont.set(request.performer.soundfont, list);
    }
    // Two soundfonts at a time: one per core.
    const jobs = [...bySoundfont];
    const worker = async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const [soundfont, list] = job;
        const stereo = await renderWithFluidSynth(
          batchMidi(
            list.map((r) => r.performer),
            segment,
          ),
          soundfont,
          workDir,
        );
        list.forEach((request, k) => {
          const mono = new Float32Array(seconds * STEM_RATE);
          const offset = k * segment * STEM_RATE;
          for (let i = 0; i < mono.length; i++) {
            const frame = offset + i;
            mono[i] =
              2 * frame + 1 < stereo.length ? (stereo[2 * frame]! + stereo[2 * frame + 1]!) / 2 : 0;
          }
          stems.set(request.key, mono);
        });
      }
    };
    await Promise.all([worker(), worker()]);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return stems;
}
