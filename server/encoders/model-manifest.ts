/**
 * A model profile's manifest (models/<profile>/manifest.json): which ONNX files make it up, the
 * front-end each encoder eats, and the vocabulary and answers it was trained with. Validated when
 * loaded, so a missing file or a vocabulary that drifted from the code is a clear error at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ANSWERS, QUESTION_VOCABULARY } from '../../shared/question-space/index.js';

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
  }),
  encoders: z.object({ ast: file, audio: file, frame: file }),
  /** Rows × columns of the frame encoder's patch tokens (for drawing spatial attention). */
  patchGrid: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  /** Question encoder and head per variant; "full" is the one the monitor serves. */
  variants: z.record(z.string(), z.object({ question: file, head: file })),
  vocabulary: z.array(z.string()),
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
  if (JSON.stringify(manifest.vocabulary) !== JSON.stringify(QUESTION_VOCABULARY)) {
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
