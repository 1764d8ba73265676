/** Runs the project's own command-line programs as a user would, from the repository root. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './musicavqa.js';

const run = promisify(execFile);

/** A TypeScript CLI under server/cli (e.g. 'synth'), through tsx like `npm run`. */
export function runCli(name: string, args: string[]) {
  return run(process.execPath, ['--import', 'tsx', `server/cli/${name}.ts`, ...args], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 26,
  });
}

/** A Python program with Debian's interpreter (the one that has torch). */
export function runPython(args: string[]) {
  return run('/usr/bin/python3', ['-W', 'ignore', ...args], { cwd: REPO_ROOT, maxBuffer: 1 << 26 });
}

/** A shell script of the repository (e.g. models/ablation.sh), with extra environment. */
export function runScript(script: string, args: string[], env: Record<string, string> = {}) {
  return run(script, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
}

/** Front-end and, given a profile, encoder features of a synthetic data set. */
export async function extract(dataset: string, out: string, profile?: string): Promise<void> {
  await runCli('extract', ['--dataset', dataset, '--out', out]);
  if (profile)
    await runCli('extract', [
      '--dataset',
      dataset,
      '--out',
      out,
      '--stage',
      'features',
      '--profile',
      profile,
    ]);
}

export const repoPath = (...parts: string[]) => path.join(REPO_ROOT, ...parts);

/** npm itself (e.g. `npm run build`), from the repository root. */
export function runNpm(args: string[]) {
  return run('npm', args, { cwd: REPO_ROOT, maxBuffer: 1 << 26 });
}

/** The dashboard's build (client/dist) the monitor serves; `npm test` builds it, vitest alone may not. */
export async function ensureDashboardBuilt(): Promise<void> {
  if (!existsSync(repoPath('client', 'dist', 'index.html'))) await runNpm(['run', 'build']);
}
