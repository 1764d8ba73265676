/**
 * A model profile's manifest (models/<profile>/manifest.json): which ONNX files make it up, the
 * front-end each encoder eats, and the vocabulary and answers it was trained with. Validated when
 * loaded, so a missing file or a vocabulary that drifted from the code is a clear error at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  ANSWERS,
  QUESTION_VOCABULARY,
  tokenizeQuestion,
} from '../../shared/question-space/index.js';
import { ClipTokenizer } from './clip-tokenizer.js';

const file = z.string().regex(/\.onnx$/);

export const manifestSchema = z.object({
  profile: z.string(),
  description: z.string(),
  frontend: z.object({
    astFrames: z.number().int().positive(),
    frameWidth: z.number().int().positive(),
    frameHeight: z.number().int().positive(),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
    /** `squash`: the whole frame resized (left/right kept); `centre-crop`: CLIP's recipe. */
    frameResize: z.enum(['squash', 'centre-crop']).default('squash'),
  }),
  encoders: z.object({ ast: file, audio: file, frame: file }),
  /** Rows × columns of the frame encoder's patch tokens (for drawing spatial attention). */
  patchGrid: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  /** Question encoder and head per variant; "full" is the one the monitor serves. */
  variants: z.record(z.string(), z.object({ question: file, head: file })),
  /** The closed vocabulary a `tiny`-style question encoder was trained with… */
  vocabulary: z.array(z.string()).optional(),
  /** …or CLIP's BPE merges file (bpe_simple_vocab_16e6.txt[.gz]) for CLIP's text tower. */
  clipMerges: z.string().optional(),
  answers: z.array(z.string()),
});
export type ModelManifest = z.infer<typeof manifestSchema> & { readonly directory: string };

/** Reads and checks a manifest and its encoders; a variant's own files are checked when it loads. */
export function readManifest(directory: string): ModelManifest {
  const manifestPath = path.join(directory, 'manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read model manifest ${manifestPath}: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${manifestPath}: ${z.prettifyError(parsed.error)}`);
  const manifest = parsed.data;
  if (!manifest.vocabulary === !manifest.clipMerges) {
    throw new Error(
      `${manifestPath}: name either a closed "vocabulary" or CLIP's "clipMerges", not ${manifest.vocabulary ? 'both' : 'neither'}`,
    );
  }
  if (manifest.clipMerges) assertFilesExist(directory, [manifest.clipMerges], manifestPath);
  if (
    manifest.vocabulary &&
    JSON.stringify(manifest.vocabulary) !== JSON.stringify(QUESTION_VOCABULARY)
  ) {
    throw new Error(
      `${manifestPath}: its vocabulary differs from shared/question-space/tokenize.ts; retrain or re-export the profile`,
    );
  }
  if (JSON.stringify(manifest.answers) !== JSON.stringify(ANSWERS)) {
    throw new Error(`${manifestPath}: its answers differ from the 42 MUSIC-AVQA answers in order`);
  }
  assertFilesExist(
    directory,
    [manifest.encoders.ast, manifest.encoders.audio, manifest.encoders.frame],
    manifestPath,
  );
  return { ...manifest, directory };
}

export function assertFilesExist(directory: string, files: readonly string[], owner: string): void {
  const missing = files.filter((name) => !existsSync(path.join(directory, name)));
  if (missing.length > 0) throw new Error(`${owner} names missing files: ${missing.join(', ')}`);
}

/** CLIP's text context, in tokens (start and end of text included). */
const CLIP_CONTEXT = 77;

/**
 * Word ids for a question sentence, as the profile's question encoder expects them; a question
 * longer than the encoder takes is refused here, when it is asked, not at answer time.
 */
export function questionTokenizer(manifest: ModelManifest): (sentence: string) => number[] {
  if (!manifest.clipMerges) return tokenizeQuestion;
  const clip = ClipTokenizer.fromFile(path.join(manifest.directory, manifest.clipMerges));
  return (sentence) => {
    const ids = clip.encode(sentence);
    if (ids.length > CLIP_CONTEXT)
      throw new RangeError(
        `question has ${ids.length} tokens; CLIP's text encoder takes at most ${CLIP_CONTEXT}`,
      );
    return ids;
  };
}
