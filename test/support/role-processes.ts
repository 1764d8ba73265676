/**
 * Cluster roles as separate processes for a test (`npm start -- --role …` on a given bus): each
 * one's output collected, line by line, under its name; all stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './musicavqa.js';

export class RoleProcesses {
  readonly logs: string[] = [];
  readonly children = new Map<string, ChildProcess>();

  /** `env` is added to every process's environment (TUTTI_NATS_URL, TUTTI_WINDOW…). */
  constructor(private readonly env: () => Record<string, string>) {}

  start(name: string, role: string, args: string[] = [], env: Record<string, string> = {}) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'server/main.ts', '--role', role, ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.env(), TUTTI_NODE_NAME: name, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    for (const output of [child.stdout!, child.stderr!])
      output.on('data', (chunk: Buffer) =>
        this.logs.push(
          ...chunk
            .toString()
            .trim()
            .split('\n')
            .map((l) => `[${name}] ${l}`),
        ),
      );
    this.children.set(name, child);
    return child;
  }

  /** Lines of one process's output that contain `text`. */
  linesOf(name: string, text: string): string[] {
    return this.logs.filter((l) => l.startsWith(`[${name}]`) && l.includes(text));
  }

  stopAll(): void {
    for (const child of this.children.values()) if (child.exitCode === null) child.kill('SIGTERM');
  }
}
