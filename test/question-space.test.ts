import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAnnotations } from '../server/datasets/musicavqa-annotations.js';
import {
  ANSWERS,
  ANSWER_KINDS,
  INSTRUMENTS,
  PLACEHOLDER_VALUES,
  QUESTION_TYPES,
  QuestionParseError,
  TEMPLATES,
  countAnswer,
  fillTemplate,
  parseQuestion,
  typeKey,
} from '../shared/question-space/index.js';
import { HAS_MUSICAVQA, musicavqaFile } from './support/musicavqa.js';

describe('question space', () => {
  it('has 22 instruments, 33 templates over 9 types and 42 distinct answers', () => {
    expect(new Set(INSTRUMENTS).size).toBe(22);
    expect(TEMPLATES).toHaveLength(33);
    expect(new Set(TEMPLATES.map((template) => template.id)).size).toBe(33);
    expect(new Set(TEMPLATES.map((template) => template.text)).size).toBe(33);
    expect(new Set(QUESTION_TYPES.map(typeKey)).size).toBe(9);
    for (const type of QUESTION_TYPES) {
      expect(
        TEMPLATES.some((template) => template.type === type),
        typeKey(type),
      ).toBe(true);
    }
    expect(new Set(ANSWERS).size).toBe(42);
  });

  it('every answer a template can have is in the 42-answer vocabulary, and every answer is reachable', () => {
    const reachable = new Set<string>(Object.values(ANSWER_KINDS).flat());
    for (const answer of reachable) expect(ANSWERS).toContain(answer);
    expect([...ANSWERS].filter((answer) => !reachable.has(answer))).toEqual([]);
  });

  it('maps counts to count answers', () => {
    expect(countAnswer(0)).toBe('zero');
    expect(countAnswer(10)).toBe('ten');
    expect(countAnswer(11)).toBe('more than ten');
    expect(() => countAnswer(-1)).toThrow(RangeError);
  });

  it.skipIf(!HAS_MUSICAVQA)('answer order equals answer2idx.json', () => {
    const { ans2ix } = JSON.parse(readFileSync(musicavqaFile('answer2idx.json'), 'utf8')) as {
      ans2ix: Record<string, number>;
    };
    expect(Object.keys(ans2ix)).toHaveLength(42);
    for (const [answer, index] of Object.entries(ans2ix)) expect(ANSWERS[index]).toBe(answer);
  });
});

describe('parseQuestion', () => {
  it('parses the annotation form with template values', () => {
    const parsed = parseQuestion(
      'Is the <Object> on the <LR> louder than the <Object> on the <LR>?',
      ['violin', 'left', 'cello', 'right'],
    );
    expect(parsed.template.id).toBe('av-object-louder-at');
    expect(parsed.type).toEqual({ modality: 'Audio-Visual', kind: 'Comparative' });
    expect(parsed.sentence).toBe('Is the violin on the left louder than the cello on the right?');
  });

  it("undoes the annotations' quirks: trailing space, full-width question mark", () => {
    expect(
      parseQuestion('Are there <Object> and <Object> sound? ', ['flute', 'piano']).template.id,
    ).toBe('audio-objects-heard');
    const fullWidth = parseQuestion('How many sounding <Object> in the video\uFF1F', ['guzheng']);
    expect(fullWidth.template.id).toBe('av-sounding-object-count');
    expect(fullWidth.sentence).toBe('How many sounding guzheng in the video?');
  });

  it('parses filled sentences as people type them', () => {
    const louder = parseQuestion('Is the violin on the left louder than the cello on the right?');
    expect(louder.template.id).toBe('av-object-louder-at');
    expect(louder.values).toEqual(['violin', 'left', 'cello', 'right']);

    const guitar = parseQuestion('is there an Acoustic Guitar sound ?');
    expect(guitar.template.id).toBe('audio-object-heard');
    expect(guitar.values).toEqual(['acoustic_guitar']);

    expect(parseQuestion('What kind of instrument is the leftest instrument?').values).toEqual([
      'leftest',
    ]);
    expect(parseQuestion('How many instruments are sounding in the video?').values).toEqual([]);
  });

  it('reads back every template filled with every value of each placeholder', () => {
    for (const template of TEMPLATES) {
      const longest = Math.max(
        0,
        ...template.placeholders.map((p) => PLACEHOLDER_VALUES[p].length),
      );
      for (let pick = 0; pick < longest; pick++) {
        const values = template.placeholders.map((placeholder, slot) => {
          const choices = PLACEHOLDER_VALUES[placeholder];
          return choices[(pick + slot) % choices.length] as string;
        });
        const parsed = parseQuestion(fillTemplate(template, values).replace(/_/g, ' '));
        expect(parsed.template.id).toBe(template.id);
        expect(parsed.values).toEqual(values);
      }
    }
  });

  it('names the nearest templates for an unknown question', () => {
    let caught: unknown;
    try {
      parseQuestion('Is the violin louder then the cello?');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(QuestionParseError);
    const error = caught as QuestionParseError;
    expect(error.nearest[0]?.id).toBe('audio-louder');
    expect(error.message).toContain('Is the <Object> louder than the <Object>?');
    expect(error.nearest).toHaveLength(3);
  });

  it('rejects wrong template values with what was expected', () => {
    expect(() => parseQuestion('Is there a <Object> sound?', ['kazoo'])).toThrow(
      /"kazoo" is not a value of <Object>.*violin/,
    );
    expect(() => parseQuestion('Is there a <Object> sound?', [])).toThrow(
      /takes 1 value\(s\) \(<Object>\), got 0/,
    );
    expect(() => parseQuestion('Where is the <LL> instrument?', ['left'])).toThrow(
      /expected one of: loudest, lowest/,
    );
    expect(() => parseQuestion('Is there a violin sound?', ['violin'])).toThrow(
      /already filled in/,
    );
  });
});

describe.skipIf(!HAS_MUSICAVQA)('every MUSIC-AVQA question', () => {
  for (const split of ['avqa-val.json', 'avqa-test.json']) {
    it(`in ${split} parses to the type its record states`, async () => {
      const annotations = await readAnnotations(musicavqaFile(split));
      expect(annotations.length).toBeGreaterThan(4000);
      const mismatches: string[] = [];
      for (const annotation of annotations) {
        const parsed = parseQuestion(annotation.question, annotation.templateValues);
        if (parsed.type !== annotation.type) {
          mismatches.push(
            `${annotation.questionId}: ${typeKey(parsed.type)} vs ${typeKey(annotation.type)}`,
          );
        }
        // The filled sentence reads back to the same template (filled and template forms agree).
        expect(parseQuestion(parsed.sentence).template).toBe(parsed.template);
      }
      expect(mismatches).toEqual([]);
    });
  }
});
