/**
 * Every MUSIC-AVQA question a scene can answer without doubt, with its answer, computed from the
 * scene's ground truth alone. A question whose answer would hinge on a near tie (two parts almost
 * equally loud, two entries almost together) or on an ambiguous reference (two violins when the
 * question says "the violin") is not asked.
 */
import {
  INSTRUMENTS,
  countAnswer,
  templateById,
  type Answer,
  type Instrument,
  type QuestionTemplate,
} from '../../shared/question-space/index.js';
import type { PerformerTruth, Region, SceneTruth } from './ground-truth.js';

/** Margins that make a comparison unambiguous. */
export const MARGINS = {
  loudnessDb: 4,
  onsetRateRatio: 1.6,
  playSeconds: 2,
  entrySeconds: 0.75,
  pitchSemitones: 4,
} as const;

export interface SceneQuestion {
  readonly template: QuestionTemplate;
  readonly values: readonly string[];
  readonly answer: Answer;
}

const SIDES = ['left', 'right'] as const;
const REGIONS: readonly Region[] = ['left', 'middle', 'right'];
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'] as const;

/** What the questions need to know about a performer, derived from its ground truth. */
export interface PerformerFacts {
  readonly truth: PerformerTruth;
  readonly visible: boolean;
  readonly sounds: boolean;
  /** First onset, seconds; null when it never plays. */
  readonly entry: number | null;
  readonly playSeconds: number;
  /** Mean loudness over the seconds it sounds (energy mean), dBFS. */
  readonly loudnessDb: number | null;
  /** Onsets per second of playing. */
  readonly onsetRate: number | null;
}

export function performerFacts(truth: PerformerTruth): PerformerFacts {
  const activeDb = truth.loudnessDb.filter((_, s) => truth.active[s]);
  const playSeconds = activeDb.length;
  const energy = activeDb.reduce((sum, db) => sum + 10 ** (db / 10), 0);
  return {
    truth,
    visible: truth.x !== null,
    sounds: playSeconds > 0,
    entry: playSeconds > 0 ? (truth.onsets[0] ?? null) : null,
    playSeconds,
    loudnessDb: playSeconds > 0 ? 10 * Math.log10(energy / playSeconds) : null,
    onsetRate: playSeconds > 0 ? truth.onsets.length / playSeconds : null,
  };
}

/** +1 when a clearly exceeds b, −1 when b clearly exceeds a, 0 when too close to call. */
function compare(a: number, b: number, margin: number, ratio = false): 1 | -1 | 0 {
  if (ratio) return a >= b * margin ? 1 : b >= a * margin ? -1 : 0;
  return a - b >= margin ? 1 : b - a >= margin ? -1 : 0;
}

const yesNo = (value: boolean): Answer => (value ? 'yes' : 'no');

class Scene {
  readonly all: PerformerFacts[];
  readonly visible: PerformerFacts[];
  /** Visible performers that sound, in order of entry. */
  readonly entering: PerformerFacts[];

  constructor(readonly truth: SceneTruth) {
    this.all = truth.performers.map(performerFacts);
    this.visible = this.all.filter((p) => p.visible).sort((a, b) => a.truth.x! - b.truth.x!);
    this.entering = this.visible.filter((p) => p.sounds).sort((a, b) => a.entry! - b.entry!);
  }

  /** The one visible performer of a class, if exactly one. */
  onlyVisible(instrument: Instrument): PerformerFacts | undefined {
    const matches = this.visible.filter((p) => p.truth.instrument === instrument);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The one performer (seen or not) of a class, if exactly one. */
  onlyHeardOrSeen(instrument: Instrument): PerformerFacts | undefined {
    const matches = this.all.filter((p) => p.truth.instrument === instrument);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The one visible performer in a region, if exactly one. */
  onlyIn(region: Region): PerformerFacts | undefined {
    const matches = this.visible.filter((p) => p.truth.region === region);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The nearest visible performer on one side. */
  neighbour(of: PerformerFacts, side: 'left' | 'right'): PerformerFacts | undefined {
    const index = this.visible.indexOf(of);
    return this.visible[side === 'left' ? index - 1 : index + 1];
  }

  /** k-th to come in (0-based), when its entry is clearly apart from its neighbours'. */
  nthEntering(k: number): PerformerFacts | undefined {
    const p = this.entering[k];
    if (!p) return undefined;
    const apart = (q: PerformerFacts | undefined) =>
      !q || Math.abs(q.entry! - p.entry!) >= MARGINS.entrySeconds;
    return apart(this.entering[k - 1]) && apart(this.entering[k + 1]) ? p : undefined;
  }

  firstOrLast(which: 'first' | 'last'): PerformerFacts | undefined {
    return this.nthEntering(which === 'first' ? 0 : this.entering.length - 1);
  }

  /** Unambiguous region of a performer: it is the only one there. */
  regionAnswer(p: PerformerFacts | undefined): Answer | undefined {
    const region = p?.truth.region;
    return region && this.onlyIn(region) === p ? region : undefined;
  }
}

type Asker = (scene: Scene) => Array<[values: string[], answer: Answer | undefined]>;

const instrumentPairs = (): Array<[Instrument, Instrument]> =>
  INSTRUMENTS.flatMap((a) =>
    INSTRUMENTS.filter((b) => b !== a).map((b) => [a, b] as [Instrument, Instrument]),
  );

function comparison(
  a: PerformerFacts | undefined,
  b: PerformerFacts | undefined,
  measure: (p: PerformerFacts) => number | null,
  margin: number,
  ratio = false,
): Answer | undefined {
  if (!a || !b || a === b) return undefined;
  const [x, y] = [measure(a), measure(b)];
  if (x === null || y === null) return undefined;
  const verdict = compare(x, y, margin, ratio);
  return verdict === 0 ? undefined : yesNo(verdict === 1);
}

const loudness = (p: PerformerFacts) => p.loudnessDb;
const onsetRate = (p: PerformerFacts) => p.onsetRate;
const playSeconds = (p: PerformerFacts) => (p.sounds ? p.playSeconds : null);

/** Classes present among some performers, plus as many absent ones for "no" answers. */
function instrumentsToAsk(scene: Scene, among: PerformerFacts[]): Instrument[] {
  const present = [...new Set(among.map((p) => p.truth.instrument))];
  const absent = INSTRUMENTS.filter((i) => !present.includes(i));
  // A deterministic spread of absent classes (the balancer samples among them later).
  const offset = scene.truth.id.length + scene.truth.seconds;
  return [...present, ...absent.filter((_, k) => (k + offset) % 4 === 0)];
}

const ASKERS: Record<string, Asker> = {
  'audio-instruments-heard': (s) => [[[], countAnswer(s.all.filter((p) => p.sounds).length)]],
  'audio-object-heard': (s) =>
    instrumentsToAsk(s, s.all).map((i) => [
      [i],
      yesNo(s.all.some((p) => p.truth.instrument === i && p.sounds)),
    ]),
  'audio-objects-heard': (s) =>
    instrumentPairs()
      .filter(
        ([a, b]) =>
          s.all.some((p) => p.truth.instrument === a || p.truth.instrument === b) && a < b,
      )
      .map(([a, b]) => [
        [a, b],
        yesNo([a, b].every((i) => s.all.some((p) => p.truth.instrument === i && p.sounds))),
      ]),
  'audio-louder': (s) =>
    instrumentPairs().map(([a, b]) => [
      [a, b],
      comparison(s.onlyHeardOrSeen(a), s.onlyHeardOrSeen(b), loudness, MARGINS.loudnessDb),
    ]),
  'audio-more-rhythmic': (s) =>
    instrumentPairs().map(([a, b]) => [
      [a, b],
      comparison(
        s.onlyHeardOrSeen(a),
        s.onlyHeardOrSeen(b),
        onsetRate,
        MARGINS.onsetRateRatio,
        true,
      ),
    ]),
  'audio-longer': (s) =>
    instrumentPairs().map(([a, b]) => [
      [a, b],
      comparison(s.onlyHeardOrSeen(a), s.onlyHeardOrSeen(b), playSeconds, MARGINS.playSeconds),
    ]),

  'visual-object-seen': (s) =>
    instrumentsToAsk(s, s.visible).map((i) => [
      [i],
      yesNo(s.visible.some((p) => p.truth.instrument === i)),
    ]),
  'visual-objects-seen': (s) =>
    instrumentPairs()
      .filter(
        ([a, b]) =>
          s.visible.some((p) => p.truth.instrument === a || p.truth.instrument === b) && a < b,
      )
      .map(([a, b]) => [
        [a, b],
        yesNo([a, b].every((i) => s.visible.some((p) => p.truth.instrument === i))),
      ]),
  'visual-object-count': (s) =>
    instrumentsToAsk(s, s.visible).map((i) => [
      [i],
      countAnswer(s.visible.filter((p) => p.truth.instrument === i).length),
    ]),
  'visual-type-count': (s) => [
    [[], countAnswer(new Set(s.visible.map((p) => p.truth.instrument)).size)],
  ],
  'visual-neighbour': (s) =>
    SIDES.flatMap((side) =>
      INSTRUMENTS.map((i): [string[], Answer | undefined] => {
        const of = s.onlyVisible(i);
        return [[side, i], of && s.neighbour(of, side)?.truth.instrument];
      }),
    ),
  'visual-outermost': (s) =>
    s.visible.length < 2
      ? []
      : [
          [['leftest'], s.visible[0]!.truth.instrument],
          [['rightest'], s.visible.at(-1)!.truth.instrument],
        ],
  'visual-which-instrument': (s) =>
    s.visible.length === 1 ? [[[], s.visible[0]!.truth.instrument]] : [],
  'visual-venue': (s) => [[[], s.truth.venue]],

  'av-always-playing': (s) =>
    INSTRUMENTS.map((i) => {
      const p = s.onlyVisible(i);
      return [[i], p && p.sounds ? yesNo(p.truth.active.every(Boolean)) : undefined];
    }),
  'av-voiceover': (s) => [[[], yesNo(s.truth.voiceover !== null)]],
  'av-sound-in-view': (s) => [[[], yesNo(!s.all.some((p) => !p.visible && p.sounds))]],
  'av-sounding-count': (s) => [[[], countAnswer(s.visible.filter((p) => p.sounds).length)]],
  'av-silent-count': (s) => [[[], countAnswer(s.visible.filter((p) => !p.sounds).length)]],
  'av-sounding-object-count': (s) =>
    instrumentsToAsk(s, s.visible).map((i) => [
      [i],
      countAnswer(s.visible.filter((p) => p.truth.instrument === i && p.sounds).length),
    ]),
  'av-sounding-type-count': (s) => [
    [
      [],
      countAnswer(new Set(s.visible.filter((p) => p.sounds).map((p) => p.truth.instrument)).size),
    ],
  ],

  'av-sound-from-position': (s) =>
    (['first', 'last'] as const).flatMap((fl) =>
      REGIONS.map((region): [string[], Answer | undefined] => {
        const p = s.firstOrLast(fl);
        return [
          [fl, region],
          p && s.entering.length > 1 ? yesNo(p.truth.region === region) : undefined,
        ];
      }),
    ),
  'av-beside-sounding': (s) =>
    SIDES.flatMap((side) =>
      (['first', 'last'] as const).map((fl): [string[], Answer | undefined] => {
        const p = s.entering.length > 1 ? s.firstOrLast(fl) : undefined;
        return [[side, fl], p && s.neighbour(p, side)?.truth.instrument];
      }),
    ),
  'av-where-loudest': (s) => {
    const sounding = s.visible.filter((p) => p.sounds);
    const extreme = (measure: (p: PerformerFacts) => number | null, margin: number) => {
      const ranked = [...sounding].sort((a, b) => measure(b)! - measure(a)!);
      const [top, next] = ranked;
      return top && next && measure(top)! - measure(next)! >= margin
        ? s.regionAnswer(top)
        : undefined;
    };
    const withPitch = sounding.every((p) => p.truth.medianPitch !== null);
    return [
      [['loudest'], extreme(loudness, MARGINS.loudnessDb)],
      // "Lowest" is read as lowest in pitch; unpitched parts (drums) leave it unasked.
      [
        ['lowest'],
        withPitch ? extreme((p) => -p.truth.medianPitch!, MARGINS.pitchSemitones) : undefined,
      ],
    ];
  },
  'av-same-time': (s) =>
    INSTRUMENTS.map((i) => {
      const p = s.onlyVisible(i);
      if (!p?.sounds) return [[i], undefined];
      const overlap = (q: PerformerFacts) =>
        q.truth.active.filter((on, t) => on && p.truth.active[t]).length;
      const others = s.visible
        .filter((q) => q !== p && q.sounds && q.truth.instrument !== i)
        .sort((a, b) => overlap(b) - overlap(a));
      const [best, second] = others;
      const clear = best && overlap(best) > 0 && (!second || overlap(best) - overlap(second) >= 2);
      return [[i], clear ? best.truth.instrument : undefined];
    }),

  'av-object-louder-at': (s) =>
    positionedPairs(s).map(([values, a, b]) => [
      values,
      comparison(a, b, loudness, MARGINS.loudnessDb),
    ]),
  'av-object-more-rhythmic-at': (s) =>
    positionedPairs(s).map(([values, a, b]) => [
      values,
      comparison(a, b, onsetRate, MARGINS.onsetRateRatio, true),
    ]),
  'av-position-louder': (s) =>
    regionPairs(s).map(([values, a, b]) => [
      values,
      comparison(a, b, loudness, MARGINS.loudnessDb),
    ]),
  'av-position-more-rhythmic': (s) =>
    regionPairs(s).map(([values, a, b]) => [
      values,
      comparison(a, b, onsetRate, MARGINS.onsetRateRatio, true),
    ]),

  'av-entry-order': (s) =>
    ORDINALS.map((ordinal, k) => [
      [ordinal],
      s.entering.length > 1 ? s.nthEntering(k)?.truth.instrument : undefined,
    ]),
  'av-where-first-sounding': (s) =>
    (['first', 'last'] as const).map((fl) => [
      [fl],
      s.entering.length > 1 ? s.regionAnswer(s.firstOrLast(fl)) : undefined,
    ]),
  'av-which-object-first': (s) =>
    INSTRUMENTS.flatMap((i) =>
      (['first', 'last'] as const).map((fl): [string[], Answer | undefined] => {
        const twins = s.entering.filter((p) => p.truth.instrument === i);
        if (twins.length < 2) return [[i, fl], undefined];
        const entries = twins.map((p) => p.entry!);
        if (entries.every((e) => e === entries[0])) return [[i, fl], 'simultaneously'];
        const ordered = fl === 'first' ? twins : [...twins].reverse();
        const [p, q] = ordered;
        return [
          [i, fl],
          Math.abs(p!.entry! - q!.entry!) >= MARGINS.entrySeconds ? s.regionAnswer(p) : undefined,
        ];
      }),
    ),
  'av-before-after': (s) =>
    (['before', 'after'] as const).flatMap((ba) =>
      INSTRUMENTS.map((i): [string[], Answer | undefined] => {
        const p = s.onlyVisible(i);
        const k = p ? s.entering.indexOf(p) : -1;
        if (k < 0 || !s.nthEntering(k)) return [[ba, i], undefined];
        const q = s.nthEntering(ba === 'before' ? k - 1 : k + 1);
        return [[ba, i], q && q.truth.instrument !== i ? q.truth.instrument : undefined];
      }),
    ),
};

/** (instrument, region) pairs naming two different, unambiguous performers. */
function positionedPairs(
  s: Scene,
): Array<[string[], PerformerFacts | undefined, PerformerFacts | undefined]> {
  const named = s.visible
    .map((p) => ({ p, region: p.truth.region! }))
    .filter(
      ({ p, region }) =>
        s.visible.filter(
          (q) => q.truth.instrument === p.truth.instrument && q.truth.region === region,
        ).length === 1,
    );
  return named.flatMap((a) =>
    named
      .filter((b) => b.p !== a.p)
      .map((b): [string[], PerformerFacts, PerformerFacts] => [
        [a.p.truth.instrument, a.region, b.p.truth.instrument, b.region],
        a.p,
        b.p,
      ]),
  );
}

function regionPairs(
  s: Scene,
): Array<[string[], PerformerFacts | undefined, PerformerFacts | undefined]> {
  return REGIONS.flatMap((a) =>
    REGIONS.filter((b) => b !== a).map(
      (b): [string[], PerformerFacts | undefined, PerformerFacts | undefined] => [
        [a, b],
        s.onlyIn(a),
        s.onlyIn(b),
      ],
    ),
  );
}

/** All unambiguous questions about a scene, with their answers. */
export function sceneQuestions(truth: SceneTruth): SceneQuestion[] {
  const scene = new Scene(truth);
  return Object.entries(ASKERS).flatMap(([id, ask]) => {
    const template = templateById(id);
    if (!template) throw new Error(`no template ${id}`);
    return ask(scene)
      .filter((entry): entry is [string[], Answer] => entry[1] !== undefined)
      .map(([values, answer]) => ({ template, values, answer }));
  });
}

/** Templates this generator can ask (all 33). */
export const ASKED_TEMPLATE_IDS: readonly string[] = Object.keys(ASKERS);
