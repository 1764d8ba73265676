/**
 * The 33 MUSIC-AVQA question templates and the 9 question types they belong to.
 * Template text is in canonical form: single spaces, ASCII '?', no trailing space
 * (the annotations' quirks are undone by `normalizeQuestionText`).
 */
import { COUNT_ANSWERS, INSTRUMENTS, type Answer, type Placeholder } from './vocabulary.js';

export const MODALITIES = ['Audio', 'Visual', 'Audio-Visual'] as const;
export type Modality = (typeof MODALITIES)[number];

/** The 9 question types, in the order the MUSIC-AVQA test scripts report them. */
export const QUESTION_TYPES = [
  { modality: 'Audio', kind: 'Counting' },
  { modality: 'Audio', kind: 'Comparative' },
  { modality: 'Visual', kind: 'Counting' },
  { modality: 'Visual', kind: 'Location' },
  { modality: 'Audio-Visual', kind: 'Existential' },
  { modality: 'Audio-Visual', kind: 'Counting' },
  { modality: 'Audio-Visual', kind: 'Location' },
  { modality: 'Audio-Visual', kind: 'Comparative' },
  { modality: 'Audio-Visual', kind: 'Temporal' },
] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export type QuestionKind = QuestionType['kind'];

/** Stable key of a type, e.g. "Audio-Visual/Temporal". */
export function typeKey(type: { modality: string; kind: string }): string {
  return `${type.modality}/${type.kind}`;
}

/** Which answers a template can have: the classifier's plausible subset for it. */
export const ANSWER_KINDS = {
  'yes-no': ['yes', 'no'],
  count: [...COUNT_ANSWERS, 'more than ten'],
  instrument: INSTRUMENTS,
  position: ['left', 'middle', 'right'],
  'position-or-simultaneous': ['left', 'middle', 'right', 'simultaneously'],
  venue: ['indoor', 'outdoor'],
} as const satisfies Record<string, readonly Answer[]>;
export type AnswerKind = keyof typeof ANSWER_KINDS;

export interface QuestionTemplate {
  /** Stable, readable id used on the wire and in logs. */
  readonly id: string;
  /** Canonical text with placeholders, e.g. "Is the <Object> louder than the <Object>?". */
  readonly text: string;
  readonly type: QuestionType;
  readonly answerKind: AnswerKind;
  /** Placeholders in the order they occur in `text` (the order of `templ_values`). */
  readonly placeholders: readonly Placeholder[];
}

type TemplateSpec = readonly [id: string, text: string, type: QuestionType, answers: AnswerKind];

const [AUDIO_COUNTING, AUDIO_COMPARATIVE, VISUAL_COUNTING, VISUAL_LOCATION] = QUESTION_TYPES;
const [, , , , AV_EXISTENTIAL, AV_COUNTING, AV_LOCATION, AV_COMPARATIVE, AV_TEMPORAL] =
  QUESTION_TYPES;

// prettier-ignore
const SPECS: readonly TemplateSpec[] = [
  ['audio-instruments-heard', 'How many musical instruments were heard throughout the video?', AUDIO_COUNTING, 'count'],
  ['audio-object-heard', 'Is there a <Object> sound?', AUDIO_COUNTING, 'yes-no'],
  ['audio-objects-heard', 'Are there <Object> and <Object> sound?', AUDIO_COUNTING, 'yes-no'],
  ['audio-louder', 'Is the <Object> louder than the <Object>?', AUDIO_COMPARATIVE, 'yes-no'],
  ['audio-more-rhythmic', 'Is the <Object> more rhythmic than the <Object>?', AUDIO_COMPARATIVE, 'yes-no'],
  ['audio-longer', 'Is the <Object> playing longer than the <Object>?', AUDIO_COMPARATIVE, 'yes-no'],
  ['visual-object-seen', 'Is there a <Object> in the entire video?', VISUAL_COUNTING, 'yes-no'],
  ['visual-objects-seen', 'Are there <Object> and <Object> instruments in the video?', VISUAL_COUNTING, 'yes-no'],
  ['visual-object-count', 'How many <Object> are in the entire video?', VISUAL_COUNTING, 'count'],
  ['visual-type-count', 'How many types of musical instruments appeared in the entire video?', VISUAL_COUNTING, 'count'],
  ['visual-neighbour', 'What is the instrument on the <LR> of <Object>?', VISUAL_LOCATION, 'instrument'],
  ['visual-outermost', 'What kind of instrument is the <LRer> instrument?', VISUAL_LOCATION, 'instrument'],
  ['visual-which-instrument', 'What kind of musical instrument is it?', VISUAL_LOCATION, 'instrument'],
  ['visual-venue', 'Where is the performance?', VISUAL_LOCATION, 'venue'],
  ['av-always-playing', 'Is the <Object> in the video always playing?', AV_EXISTENTIAL, 'yes-no'],
  ['av-voiceover', 'Is there a voiceover?', AV_EXISTENTIAL, 'yes-no'],
  ['av-sound-in-view', 'Is this sound from the instrument in the video?', AV_EXISTENTIAL, 'yes-no'],
  ['av-sounding-count', 'How many instruments are sounding in the video?', AV_COUNTING, 'count'],
  ['av-silent-count', 'How many instruments in the video did not sound from beginning to end?', AV_COUNTING, 'count'],
  ['av-sounding-object-count', 'How many sounding <Object> in the video?', AV_COUNTING, 'count'],
  ['av-sounding-type-count', 'How many types of musical instruments sound in the video?', AV_COUNTING, 'count'],
  ['av-sound-from-position', 'Is the <FL> sound coming from the <LR> instrument?', AV_LOCATION, 'yes-no'],
  ['av-beside-sounding', 'What is the <LR> instrument of the <FL> sounding instrument?', AV_LOCATION, 'instrument'],
  ['av-where-loudest', 'Where is the <LL> instrument?', AV_LOCATION, 'position'],
  ['av-same-time', 'Which is the musical instrument that sounds at the same time as the <Object>?', AV_LOCATION, 'instrument'],
  ['av-object-louder-at', 'Is the <Object> on the <LR> louder than the <Object> on the <LR>?', AV_COMPARATIVE, 'yes-no'],
  ['av-object-more-rhythmic-at', 'Is the <Object> on the <LR> more rhythmic than the <Object> on the <LR>?', AV_COMPARATIVE, 'yes-no'],
  ['av-position-louder', 'Is the instrument on the <LR> louder than the instrument on the <LR>?', AV_COMPARATIVE, 'yes-no'],
  ['av-position-more-rhythmic', 'Is the instrument on the <LR> more rhythmic than the instrument on the <LR>?', AV_COMPARATIVE, 'yes-no'],
  ['av-entry-order', 'What is the <TH> instrument that comes in?', AV_TEMPORAL, 'instrument'],
  ['av-where-first-sounding', 'Where is the <FL> sounding instrument?', AV_TEMPORAL, 'position'],
  ['av-which-object-first', 'Which <Object> makes the sound <FL>?', AV_TEMPORAL, 'position-or-simultaneous'],
  ['av-before-after', 'Which instrument makes sounds <BA> the <Object>?', AV_TEMPORAL, 'instrument'],
];

const PLACEHOLDER_PATTERN = /<(Object|LRer|LR|FL|TH|LL|BA)>/g;

export const TEMPLATES: readonly QuestionTemplate[] = SPECS.map(([id, text, type, answerKind]) => ({
  id,
  text,
  type,
  answerKind,
  placeholders: [...text.matchAll(PLACEHOLDER_PATTERN)].map((match) => match[0] as Placeholder),
}));

const BY_ID = new Map(TEMPLATES.map((template) => [template.id, template]));

export function templateById(id: string): QuestionTemplate | undefined {
  return BY_ID.get(id);
}
