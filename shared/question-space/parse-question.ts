/**
 * Turns a question into (template, type, values, filled sentence).
 *
 * Two input forms are accepted:
 * - the annotations' form: template text with placeholders plus `templ_values`
 *   ("Is the <Object> louder than the <Object>?", ["violin", "cello"]);
 * - a filled sentence as a person types it ("Is the violin louder than the cello?").
 */
import { distance } from 'fastest-levenshtein';
import { TEMPLATES, type QuestionTemplate, type QuestionType } from './templates.js';
import { PLACEHOLDER_VALUES, PLACEHOLDERS, type Placeholder } from './vocabulary.js';

export interface ParsedQuestion {
  readonly template: QuestionTemplate;
  readonly type: QuestionType;
  /** Placeholder values in canonical spelling, in template order. */
  readonly values: readonly string[];
  /** The template filled with its values, as MUSIC-AVQA's loaders build the model's input. */
  readonly sentence: string;
}

export class QuestionParseError extends Error {
  constructor(
    message: string,
    /** Closest templates to what was asked, best first (empty when the template was found). */
    readonly nearest: readonly QuestionTemplate[] = [],
  ) {
    super(message);
    this.name = 'QuestionParseError';
  }

  /** The nearest templates as the wire protocol names them (HTTP and WebSocket errors). */
  nearestTemplates(): Array<{ templateId: string; template: string }> {
    return this.nearest.map((t) => ({ templateId: t.id, template: t.text }));
  }
}

/**
 * Undoes the annotations' typographic quirks: full-width question marks, trailing or
 * doubled spaces, a space before the question mark.
 */
export function normalizeQuestionText(text: string): string {
  return text
    .replace(/\uFF1F/g, '?')
    .replace(/\s+/g, ' ')
    .replace(/ \?/g, '?')
    .trim();
}

export function fillTemplate(template: QuestionTemplate, values: readonly string[]): string {
  let next = 0;
  return template.text.replace(/<\w+>/g, () => values[next++] ?? '');
}

export function parseQuestion(text: string, values: readonly string[] = []): ParsedQuestion {
  const normalized = normalizeQuestionText(text);
  const byText = TEMPLATES.find(
    (template) => template.text.toLowerCase() === normalized.toLowerCase(),
  );
  if (byText) return bind(byText, values);

  for (const { template, pattern } of FILLED_PATTERNS) {
    const match = pattern.exec(normalized);
    if (!match) continue;
    if (values.length > 0) {
      throw new QuestionParseError(
        `"${normalized}" is already filled in; template values ${JSON.stringify(values)} are not expected`,
      );
    }
    const captured = match.slice(1).map((value, index) => {
      const placeholder = template.placeholders[index] as Placeholder;
      return canonicalValue(placeholder, value ?? '') as string;
    });
    return bind(template, captured);
  }

  const nearest = nearestTemplates(normalized, 3);
  throw new QuestionParseError(
    `unknown question "${normalized}"; nearest templates:\n` +
      nearest.map((template) => `  - ${template.text}  (${template.id})`).join('\n'),
    nearest,
  );
}

function bind(template: QuestionTemplate, values: readonly string[]): ParsedQuestion {
  if (values.length !== template.placeholders.length) {
    throw new QuestionParseError(
      `template "${template.text}" takes ${template.placeholders.length} value(s) ` +
        `(${template.placeholders.join(', ') || 'none'}), got ${values.length}: ${JSON.stringify(values)}`,
    );
  }
  const canonical = values.map((value, index) => {
    const placeholder = template.placeholders[index] as Placeholder;
    const known = canonicalValue(placeholder, value);
    if (known === undefined) {
      throw new QuestionParseError(
        `"${value}" is not a value of ${placeholder} (value ${index + 1} of "${template.text}"); ` +
          `expected one of: ${PLACEHOLDER_VALUES[placeholder].join(', ')}`,
      );
    }
    return known;
  });
  return {
    template,
    type: template.type,
    values: canonical,
    sentence: fillTemplate(template, canonical),
  };
}

/** Accepts "acoustic guitar" and "Acoustic_Guitar" for acoustic_guitar. */
function canonicalValue(placeholder: Placeholder, value: string): string | undefined {
  const key = value
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '_');
  return PLACEHOLDER_VALUES[placeholder].find((candidate) => candidate === key);
}

function valuePattern(placeholder: Placeholder): string {
  // Longest first so "leftest" is not read as "left" + "est".
  const values = [...PLACEHOLDER_VALUES[placeholder]].sort((a, b) => b.length - a.length);
  return `(${values.map((value) => value.replace(/_/g, '[ _]')).join('|')})`;
}

const FILLED_PATTERNS = TEMPLATES.filter((template) => template.placeholders.length > 0).map(
  (template) => {
    const source = template.text
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      // People write "an accordion" where the template says "a <Object>".
      .replace(/\ba (?=<Object>)/g, 'an? ')
      .replace(/<(\w+)>/g, (placeholder) => valuePattern(placeholder as Placeholder));
    return { template, pattern: new RegExp(`^${source}$`, 'i') };
  },
);

const ANY_VALUE = new RegExp(
  `\\b(${PLACEHOLDERS.map((placeholder) => valuePattern(placeholder).slice(1, -1)).join('|')})\\b`,
  'gi',
);

/** The question with every placeholder and placeholder value blanked, for similarity. */
function skeleton(text: string): string {
  return normalizeQuestionText(text).replace(/<\w+>/g, '<>').replace(ANY_VALUE, '<>').toLowerCase();
}

export function nearestTemplates(text: string, count: number): QuestionTemplate[] {
  const asked = skeleton(text);
  return TEMPLATES.map((template) => ({ template, cost: distance(asked, skeleton(template.text)) }))
    .sort((a, b) => a.cost - b.cost)
    .slice(0, count)
    .map(({ template }) => template);
}
