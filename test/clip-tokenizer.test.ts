import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../server/encoders/clip-tokenizer.js';
import { PLACEHOLDER_VALUES, TEMPLATES, fillTemplate } from '../shared/question-space/index.js';
import { runPython } from './support/run-cli.js';

/** Every template filled with a spread of values: the sentences the paper profile encodes. */
function questionSentences(): string[] {
  return TEMPLATES.flatMap((template) =>
    [0, 1, 2, 3, 4, 5, 6, 7].map((pick) =>
      fillTemplate(
        template,
        template.placeholders.map(
          (p, slot) => PLACEHOLDER_VALUES[p][(pick * 3 + slot) % PLACEHOLDER_VALUES[p].length]!,
        ),
      ),
    ),
  );
}

function pythonEncode(merges: string, lines: string[]): Promise<number[][]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['models/reference/clip_tokenizer.py', 'encode', merges],
      { cwd: path.resolve('.') },
      (error, stdout) =>
        error
          ? reject(error)
          : resolve(
              stdout
                .trim()
                .split('\n')
                .map((line) => JSON.parse(line) as number[]),
            ),
    );
    child.stdin!.end(lines.join('\n') + '\n');
  });
}

describe("CLIP's BPE tokenizer", () => {
  it('gives the ids of the reference SimpleTokenizer for every kind of question', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-bpe-'));
    const sentences = questionSentences();
    writeFileSync(path.join(dir, 'corpus.txt'), sentences.join('\n'));
    // A merges file in CLIP's format, learned from the questions (CLIP's own is not to be had here).
    await runPython([
      'models/reference/clip_tokenizer.py',
      'learn',
      path.join(dir, 'corpus.txt'),
      path.join(dir, 'merges.txt'),
      '--merges',
      '400',
    ]);
    const tokenizer = ClipTokenizer.fromFile(path.join(dir, 'merges.txt'), 400);
    const reference = await pythonEncode(path.join(dir, 'merges.txt'), sentences);
    expect(sentences.map((s) => tokenizer.encode(s))).toEqual(reference);
    // Frames the text like CLIP: <|startoftext|> … <|endoftext|>, the two last ids of the vocabulary.
    const ids = tokenizer.encode('Is the acoustic_guitar louder than the violin?');
    expect(ids[0]).toBe(tokenizer.vocabularySize - 2);
    expect(ids.at(-1)).toBe(tokenizer.vocabularySize - 1);
    expect(tokenizer.vocabularySize).toBeGreaterThan(512 + 100);
  }, 60_000);
});
