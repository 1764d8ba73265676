/**
 * MUSIC-AVQA's closed vocabularies: the 22 instrument classes, the values each template
 * placeholder takes, and the 42 answers in the standard index order.
 */

/** The 22 instrument classes of MUSIC-AVQA, spelled as in its annotations. */
export const INSTRUMENTS = [
  'accordion',
  'acoustic_guitar',
  'bagpipe',
  'banjo',
  'bassoon',
  'cello',
  'clarinet',
  'congas',
  'drum',
  'electric_bass',
  'erhu',
  'flute',
  'guzheng',
  'piano',
  'pipa',
  'saxophone',
  'suona',
  'trumpet',
  'tuba',
  'ukulele',
  'violin',
  'xylophone',
] as const;
export type Instrument = (typeof INSTRUMENTS)[number];

/** Values of each placeholder, as they occur in the annotations' `templ_values`. */
export const PLACEHOLDER_VALUES = {
  '<Object>': INSTRUMENTS,
  '<LR>': ['left', 'middle', 'right'],
  '<LRer>': ['leftest', 'rightest'],
  '<FL>': ['first', 'last'],
  '<TH>': ['first', 'second', 'third', 'fourth', 'fifth'],
  '<LL>': ['loudest', 'lowest'],
  '<BA>': ['before', 'after'],
} as const satisfies Record<string, readonly string[]>;
export type Placeholder = keyof typeof PLACEHOLDER_VALUES;
export const PLACEHOLDERS = Object.keys(PLACEHOLDER_VALUES) as Placeholder[];

/**
 * The 42 answers in the index order of MUSIC-AVQA's `answer2idx.json` (the order every
 * published checkpoint's classifier uses), so index i here is logit i there.
 */
export const ANSWERS = [
  'two',
  'cello',
  'congas',
  'zero',
  'no',
  'pipa',
  'six',
  'yes',
  'one',
  'four',
  'three',
  'seven',
  'five',
  'ukulele',
  'right',
  'piano',
  'left',
  'accordion',
  'clarinet',
  'guzheng',
  'more than ten',
  'nine',
  'indoor',
  'saxophone',
  'drum',
  'violin',
  'middle',
  'outdoor',
  'bagpipe',
  'bassoon',
  'acoustic_guitar',
  'banjo',
  'electric_bass',
  'ten',
  'eight',
  'flute',
  'simultaneously',
  'trumpet',
  'erhu',
  'xylophone',
  'tuba',
  'suona',
] as const;
export type Answer = (typeof ANSWERS)[number];

const ANSWER_INDEX = new Map<string, number>(ANSWERS.map((answer, index) => [answer, index]));

/** Index of an answer in the classifier's output, or undefined when it is not one of the 42. */
export function answerIndex(answer: string): number | undefined {
  return ANSWER_INDEX.get(answer);
}

export function isAnswer(answer: string): answer is Answer {
  return ANSWER_INDEX.has(answer);
}

/** Count answers in order, so a count n maps to COUNT_ANSWERS[n] (above ten: 'more than ten'). */
export const COUNT_ANSWERS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
] as const satisfies readonly Answer[];

export function countAnswer(count: number): Answer {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`not a count: ${count}`);
  return COUNT_ANSWERS[count] ?? 'more than ten';
}
