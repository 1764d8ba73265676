/**
 * Word ids for the tiny profile's question encoder. The question space is closed, so its
 * vocabulary is every word of the 33 templates and every placeholder value (instrument names keep
 * their underscores: one word each). A model's manifest records the vocabulary it was trained
 * with, and a mismatch is refused when the model loads.
 */
import { TEMPLATES } from './templates.js';
import { PLACEHOLDER_VALUES } from './vocabulary.js';

export const PAD = '<pad>';
export const UNKNOWN = '<unk>';
/** MUSIC-AVQA's longest question, in words. */
export const MAX_QUESTION_WORDS = 24;

export function questionWords(sentence: string): string[] {
  return sentence
    .toLowerCase()
    .split(/[^a-z0-9_']+/)
    .filter((word) => word.length > 0);
}

export const QUESTION_VOCABULARY: readonly string[] = [
  PAD,
  UNKNOWN,
  ...[
    ...new Set([
      ...TEMPLATES.flatMap((template) => questionWords(template.text.replace(/<\w+>/g, ' '))),
      ...Object.values(PLACEHOLDER_VALUES).flat(),
    ]),
  ].sort(),
];

const WORD_ID = new Map(QUESTION_VOCABULARY.map((word, id) => [word, id]));

/** Ids of a filled question (see parseQuestion's `sentence`), at most MAX_QUESTION_WORDS. */
export function tokenizeQuestion(sentence: string): number[] {
  const words = questionWords(sentence);
  if (words.length > MAX_QUESTION_WORDS) {
    throw new RangeError(
      `question has ${words.length} words; at most ${MAX_QUESTION_WORDS} are encoded`,
    );
  }
  return words.map((word) => WORD_ID.get(word) ?? 1);
}
