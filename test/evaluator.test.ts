import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeAnnotations,
  encodeAnnotation,
  type Annotation,
} from '../server/datasets/musicavqa-annotations.js';
import { formatAccuracyReport, percent, scoreAccuracy } from '../server/evaluation/accuracy.js';
import { parsePredictions } from '../server/evaluation/predictions.js';
import { ANSWERS, QUESTION_TYPES } from '../shared/question-space/index.js';
import { HAS_MUSICAVQA, musicavqaFile } from './support/musicavqa.js';
import { runCli } from './support/run-cli.js';

const runEval = (args: string[]) => runCli('eval', args);

/** "Audio Count Acc: 84.07 %" → {"Audio Count Acc": "84.07"}. */
function accuracyLines(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/^(?:---->)?([A-Za-z -]+Acc(?:uracy)?): ([\d.]+) %/gm)].map((m) => [
      m[1],
      m[2],
    ]),
  );
}

const [AUDIO_COUNTING, AUDIO_COMPARATIVE] = QUESTION_TYPES;
function annotation(
  questionId: number,
  type: (typeof QUESTION_TYPES)[number],
  answer: string,
): Annotation {
  return {
    videoId: 'v',
    questionId,
    type,
    question: 'Is there a voiceover?',
    templateValues: [],
    answer,
  };
}

describe('scoreAccuracy', () => {
  // 3 audio-counting questions (2 right) and 1 audio-comparative (wrong): the pooled audio
  // average is 2/4 = 50.00, where a mean of type accuracies would say 33.33.
  const annotations = [
    annotation(1, AUDIO_COUNTING!, 'one'),
    annotation(2, AUDIO_COUNTING!, 'two'),
    annotation(3, AUDIO_COUNTING!, 'yes'),
    annotation(4, AUDIO_COMPARATIVE!, 'no'),
  ];
  const predictions = new Map([
    [1, 'one'],
    [2, 'two'],
    [3, 'no'],
    [4, 'yes'],
  ]);

  it('pools averages over questions, not over types', () => {
    const report = scoreAccuracy(annotations, predictions);
    expect(report.perType[0]).toMatchObject({ correct: 2, total: 3 });
    expect(report.perType[1]).toMatchObject({ correct: 0, total: 1 });
    expect(percent(report.perModality[0]!)).toBe('50.00');
    expect(report.overall).toEqual({ correct: 2, total: 4 });
    const text = formatAccuracyReport(report, 'toy');
    expect(text).toContain('Audio Averg Acc: 50.00 %');
    expect(text).toContain('Visual Count Acc: n/a %');
  });

  it('refuses missing, unknown and out-of-vocabulary predictions unless told', () => {
    const partial = new Map([[1, 'one']]);
    expect(() => scoreAccuracy(annotations, partial)).toThrow(
      /3 annotated question\(s\) have no prediction, e\.g\. 2, 3, 4/,
    );
    expect(scoreAccuracy(annotations, partial, { allowMissing: true }).overall).toEqual({
      correct: 1,
      total: 4,
    });
    expect(() => scoreAccuracy(annotations, new Map([...predictions, [99, 'one']]))).toThrow(
      /unannotated question ids, e\.g\. 99/,
    );
    expect(() => scoreAccuracy(annotations, new Map([...predictions, [1, 'uno']]))).toThrow(
      /outside the 42-answer vocabulary.*"uno"/,
    );
  });
});

describe('parsePredictions', () => {
  it('reads JSON lines with answers as words or vocabulary indices', () => {
    const parsed = parsePredictions(
      '{"question_id": 1, "answer": "one"}\n\n{"question_id": 2, "answer": 7}\n',
    );
    expect([...parsed]).toEqual([
      [1, 'one'],
      [2, ANSWERS[7]],
    ]);
  });

  it('names the line of a bad entry', () => {
    expect(() =>
      parsePredictions('{"question_id": 1, "answer": "one"}\n{"question_id": 1}', 'p.jsonl'),
    ).toThrow(/^p\.jsonl:2: answer:/);
    expect(() =>
      parsePredictions('{"question_id": 1, "answer": "one"}\n{"question_id": 1, "answer": "two"}'),
    ).toThrow(/:2: question_id 1 predicted twice/);
    expect(() => parsePredictions('not json')).toThrow(/:1: not JSON/);
    expect(() => parsePredictions('{"question_id": 1, "answer": 42}')).toThrow(/:1: answer/);
  });
});

describe('annotation format', () => {
  it('round-trips a record and rejects a malformed one', () => {
    const record = encodeAnnotation(annotation(7, AUDIO_COUNTING!, 'one'));
    expect(record.type).toBe('["Audio", "Counting"]'.replace(', ', ','));
    expect(decodeAnnotations([record])[0]).toMatchObject({
      questionId: 7,
      answer: 'one',
      type: AUDIO_COUNTING,
    });
    expect(() => decodeAnnotations([{ ...record, templ_values: '[oops' }], 'x.json')).toThrow(
      /^x\.json: 0\.templ_values: not JSON/,
    );
    expect(() => decodeAnnotations([record, record])).toThrow(/question_id 7 appears twice/);
    expect(() => decodeAnnotations([{ ...record, type: '["Audio", "Dancing"]' }])).toThrow(
      /unknown question type Audio\/Dancing/,
    );
  });
});

describe.skipIf(!HAS_MUSICAVQA)('npm run eval on TSPM published predictions', () => {
  it('reproduces every number of tspm-test-accuracy.txt', async () => {
    const { ans2ix } = JSON.parse(readFileSync(musicavqaFile('answer2idx.json'), 'utf8')) as {
      ans2ix: Record<string, number>;
    };
    const byIndex = Object.fromEntries(
      Object.entries(ans2ix).map(([answer, index]) => [index, answer]),
    );
    const test = JSON.parse(readFileSync(musicavqaFile('avqa-test.json'), 'utf8')) as Array<{
      question_id: number;
      anser: string;
    }>;
    const targets = new Map(test.map((record) => [record.question_id, record.anser]));

    const lines = readFileSync(musicavqaFile('tspm-test-predictions.tsv'), 'utf8')
      .trim()
      .split('\n');
    const predictions = lines.map((line) => {
      const [qid, correct, target, predicted] = line.split('\t').map((field) => field.trim());
      // The TSV's own bookkeeping must agree with the annotations, or the comparison means nothing.
      expect(byIndex[Number(target)]).toBe(targets.get(Number(qid)));
      expect(correct === 'True').toBe(target === predicted);
      return JSON.stringify({ question_id: Number(qid), answer: byIndex[Number(predicted)] });
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-eval-'));
    const predictionsFile = path.join(dir, 'tspm.jsonl');
    writeFileSync(predictionsFile, predictions.join('\n') + '\n');

    const { stdout } = await runEval([
      '--annotations',
      musicavqaFile('avqa-test.json'),
      '--predictions',
      predictionsFile,
      '--name',
      'TSPM',
    ]);
    const published = accuracyLines(readFileSync(musicavqaFile('tspm-test-accuracy.txt'), 'utf8'));
    expect(Object.keys(published)).toHaveLength(13);
    expect(published['Overall Accuracy']).toBe('76.79');
    expect(accuracyLines(stdout)).toEqual(published);
  });
});

describe('npm run eval', () => {
  it('fails clearly, naming the file, when a file is missing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-eval-'));
    const annotationsFile = path.join(dir, 'annotations.json');
    writeFileSync(
      annotationsFile,
      JSON.stringify([encodeAnnotation(annotation(1, AUDIO_COUNTING!, 'one'))]),
    );
    await expect(
      runEval(['--annotations', annotationsFile, '--predictions', '/nonexistent.jsonl']),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^eval: cannot read predictions \/nonexistent\.jsonl: ENOENT/),
    });
  });

  it('scores a small set end to end', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-eval-'));
    const annotationsFile = path.join(dir, 'annotations.json');
    const predictionsFile = path.join(dir, 'predictions.jsonl');
    writeFileSync(
      annotationsFile,
      JSON.stringify([1, 2].map((id) => encodeAnnotation(annotation(id, AUDIO_COUNTING!, 'one')))),
    );
    writeFileSync(
      predictionsFile,
      '{"question_id": 1, "answer": "one"}\n{"question_id": 2, "answer": "two"}\n',
    );
    const { stdout } = await runEval([
      '--annotations',
      annotationsFile,
      '--predictions',
      predictionsFile,
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ overall: { correct: 1, total: 2 } });
  });
});
