/**
 * CLIP's byte-level BPE tokenizer (openai/CLIP simple_tokenizer.py) for the `paper` profile's text
 * encoder, reading the merges file that ships with CLIP (bpe_simple_vocab_16e6.txt, gzipped or
 * not). Questions come from a closed ASCII question space, so ftfy's text repair is not needed.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';
/** How many merges CLIP uses from its file (49152 − 256 − 2). */
export const CLIP_MERGES = 49152 - 256 - 2;

const PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** GPT-2's reversible byte → printable character table. */
function bytesToUnicode(): string[] {
  const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)];
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++)
    table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  return table;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export class ClipTokenizer {
  private readonly byteChars = bytesToUnicode();
  private readonly ranks = new Map<string, number>();
  private readonly ids = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  constructor(merges: readonly (readonly [string, string])[]) {
    merges.forEach(([a, b], rank) => this.ranks.set(`${a} ${b}`, rank));
    // Byte order of CLIP's vocabulary: printable bytes first, as bytes_to_unicode().values().
    const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)];
    const rest = range(0, 255).filter((b) => !printable.includes(b));
    const base = [...printable, ...rest].map((b) => this.byteChars[b]!);
    const vocabulary = [
      ...base,
      ...base.map((c) => `${c}</w>`),
      ...merges.map(([a, b]) => a + b),
      START_OF_TEXT,
      END_OF_TEXT,
    ];
    vocabulary.forEach((token, id) => this.ids.set(token, id));
  }

  get vocabularySize(): number {
    return this.ids.size;
  }

  /** From CLIP's merges file: its first line is a header. */
  static fromFile(path: string, mergeCount = CLIP_MERGES): ClipTokenizer {
    const bytes = readFileSync(path);
    const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    const merges = text
      .split('\n')
      .slice(1, mergeCount + 1)
      .filter((line) => line.trim().length > 0)
      .map((line) => line.split(' ') as [string, string]);
    return new ClipTokenizer(merges);
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    let word = [...token];
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      let best: [number, number] | undefined; // [rank, index]
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && (!best || rank < best[0])) best = [rank, i];
      }
      if (!best) break;
      const [first, second] = [word[best[1]]!, word[best[1] + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 1;
        } else merged.push(word[i]!);
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }

  /** Ids of <|startoftext|> text <|endoftext|>, as CLIP's tokenize() lays them out (unpadded). */
  encode(text: string): number[] {
    const clean = text.replace(/\s+/g, ' ').trim().toLowerCase();
    const ids = [this.ids.get(START_OF_TEXT)!];
    for (const piece of clean.match(PATTERN) ?? []) {
      const chars = [...Buffer.from(piece, 'utf8')].map((b) => this.byteChars[b]!).join('');
      for (const token of this.bpe(chars)) {
        const id = this.ids.get(token);
        if (id === undefined) throw new Error(`token "${token}" is not in the vocabulary`);
        ids.push(id);
      }
    }
    ids.push(this.ids.get(END_OF_TEXT)!);
    return ids;
  }
}
