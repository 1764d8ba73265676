/**
 * How each of MUSIC-AVQA's 22 instrument classes is played and drawn in synthetic scenes.
 *
 * Sound: the closest General MIDI program (0-based), or General MIDI percussion keys on
 * channel 10. GM has no erhu, pipa, guzheng, suona or ukulele; their stand-ins:
 *   erhu → Fiddle (110), a bowed string in the same register;
 *   pipa → Shamisen (106), a plucked lute;
 *   guzheng → Koto (107), a plucked long zither, its Japanese cousin;
 *   suona → Shanai (111), a double-reed shawm like the suona;
 *   ukulele → Nylon-string guitar (24) played an octave up (acoustic_guitar uses steel, 25).
 *
 * Sight: a glyph and colour. Two pairs are drawn identically on purpose — flute/clarinet and
 * acoustic_guitar/ukulele — so that only their sound tells them apart (QSTar's motivation).
 */
import type { Instrument } from '../../shared/question-space/index.js';

export type Articulation = 'sustained' | 'plucked' | 'percussive';

export type Glyph =
  | 'bowed'
  | 'cello'
  | 'erhu'
  | 'guitar'
  | 'banjo'
  | 'lute'
  | 'bass'
  | 'rod'
  | 'bassoon'
  | 'suona'
  | 'bagpipe'
  | 'trumpet'
  | 'sax'
  | 'tuba'
  | 'piano'
  | 'accordion'
  | 'xylophone'
  | 'zither'
  | 'kit'
  | 'congas';

export interface InstrumentVoice {
  /** GM program, or 'percussion' for channel 10. */
  readonly program: number | 'percussion';
  /** Pitch range (MIDI notes) for melodic parts; the keys to strike for percussion. */
  readonly low: number;
  readonly high: number;
  readonly keys?: readonly number[];
  readonly articulation: Articulation;
  readonly glyph: Glyph;
  /** CSS colour of the instrument's body. */
  readonly color: string;
  /** Relative drawing size (1 = a violin). */
  readonly size: number;
}

export const INSTRUMENT_VOICES: Record<Instrument, InstrumentVoice> = {
  accordion: {
    program: 21,
    low: 53,
    high: 77,
    articulation: 'sustained',
    glyph: 'accordion',
    color: '#b22222',
    size: 1.1,
  },
  acoustic_guitar: {
    program: 25,
    low: 40,
    high: 72,
    articulation: 'plucked',
    glyph: 'guitar',
    color: '#c8874a',
    size: 1.3,
  },
  bagpipe: {
    program: 109,
    low: 67,
    high: 81,
    articulation: 'sustained',
    glyph: 'bagpipe',
    color: '#2e6b3a',
    size: 1.2,
  },
  banjo: {
    program: 105,
    low: 55,
    high: 79,
    articulation: 'plucked',
    glyph: 'banjo',
    color: '#e8dcb0',
    size: 1.2,
  },
  bassoon: {
    program: 70,
    low: 34,
    high: 62,
    articulation: 'sustained',
    glyph: 'bassoon',
    color: '#6b3b1f',
    size: 1.5,
  },
  cello: {
    program: 42,
    low: 36,
    high: 64,
    articulation: 'sustained',
    glyph: 'cello',
    color: '#8b4513',
    size: 1.8,
  },
  clarinet: {
    program: 71,
    low: 52,
    high: 79,
    articulation: 'sustained',
    glyph: 'rod',
    color: '#202020',
    size: 1.1,
  },
  congas: {
    program: 'percussion',
    low: 62,
    high: 64,
    keys: [62, 63, 64],
    articulation: 'percussive',
    glyph: 'congas',
    color: '#a0522d',
    size: 1.3,
  },
  drum: {
    program: 'percussion',
    low: 36,
    high: 49,
    keys: [36, 38, 42, 46, 45],
    articulation: 'percussive',
    glyph: 'kit',
    color: '#4169e1',
    size: 1.6,
  },
  electric_bass: {
    program: 33,
    low: 28,
    high: 52,
    articulation: 'plucked',
    glyph: 'bass',
    color: '#1e90ff',
    size: 1.5,
  },
  erhu: {
    program: 110,
    low: 62,
    high: 86,
    articulation: 'sustained',
    glyph: 'erhu',
    color: '#5c3317',
    size: 1.2,
  },
  flute: {
    program: 73,
    low: 67,
    high: 91,
    articulation: 'sustained',
    glyph: 'rod',
    color: '#202020',
    size: 1.1,
  },
  guzheng: {
    program: 107,
    low: 50,
    high: 84,
    articulation: 'plucked',
    glyph: 'zither',
    color: '#d2a060',
    size: 1.6,
  },
  piano: {
    program: 0,
    low: 45,
    high: 84,
    articulation: 'plucked',
    glyph: 'piano',
    color: '#111111',
    size: 1.8,
  },
  pipa: {
    program: 106,
    low: 52,
    high: 81,
    articulation: 'plucked',
    glyph: 'lute',
    color: '#deb887',
    size: 1.2,
  },
  saxophone: {
    program: 65,
    low: 49,
    high: 80,
    articulation: 'sustained',
    glyph: 'sax',
    color: '#daa520',
    size: 1.2,
  },
  suona: {
    program: 111,
    low: 62,
    high: 86,
    articulation: 'sustained',
    glyph: 'suona',
    color: '#cd853f',
    size: 0.9,
  },
  trumpet: {
    program: 56,
    low: 55,
    high: 82,
    articulation: 'sustained',
    glyph: 'trumpet',
    color: '#ffd700',
    size: 1.0,
  },
  tuba: {
    program: 58,
    low: 29,
    high: 58,
    articulation: 'sustained',
    glyph: 'tuba',
    color: '#e0b040',
    size: 1.6,
  },
  ukulele: {
    program: 24,
    low: 60,
    high: 81,
    articulation: 'plucked',
    glyph: 'guitar',
    color: '#c8874a',
    size: 1.3,
  },
  violin: {
    program: 40,
    low: 60,
    high: 88,
    articulation: 'sustained',
    glyph: 'bowed',
    color: '#a0522d',
    size: 1.0,
  },
  xylophone: {
    program: 13,
    low: 65,
    high: 96,
    articulation: 'plucked',
    glyph: 'xylophone',
    color: '#cd5c5c',
    size: 1.5,
  },
};

/** Classes drawn identically: only their sound differs. */
export const LOOKALIKE_PAIRS: readonly (readonly [Instrument, Instrument])[] = [
  ['flute', 'clarinet'],
  ['acoustic_guitar', 'ukulele'],
];

/**
 * Debian's sampled General MIDI soundfonts. Each stem of a training scene picks one of the first
 * three, so timbres vary; `csound` (Debian's csound-soundfont) is never used in training: a data
 * set rendered with it alone (`npm run synth -- --soundfont csound`) measures unseen timbres.
 */
export const SOUNDFONTS = {
  fluidr3: '/usr/share/sounds/sf2/FluidR3_GM.sf2',
  musescore: '/usr/share/sounds/sf3/MuseScore_General.sf3',
  timgm6mb: '/usr/share/sounds/sf2/TimGM6mb.sf2',
  csound: '/usr/share/sounds/sf2/sf_GMbank.sf2',
} as const;
export type SoundfontName = keyof typeof SOUNDFONTS;
export const SOUNDFONT_NAMES = Object.keys(SOUNDFONTS) as SoundfontName[];
export const TRAINING_SOUNDFONTS: readonly SoundfontName[] = ['fluidr3', 'musescore', 'timgm6mb'];
