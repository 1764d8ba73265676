/**
 * The real MUSIC-AVQA files in ../shared/musicavqa (present on the project's machines, never
 * needed by the product). Tests that read them skip, saying why, where the folder is absent.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MUSICAVQA_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'musicavqa');
export const HAS_MUSICAVQA = existsSync(path.join(MUSICAVQA_DIR, 'avqa-test.json'));

export function musicavqaFile(name: string): string {
  return path.join(MUSICAVQA_DIR, name);
}
