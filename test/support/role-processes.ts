/**
 * Cluster roles (`npm start -- --role …` on a given bus) and single monitors as separate
 * processes for a test or benchmark: each one's output collected, line by line, under its name;
 * all stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './musicavqa.js';

export class RoleProcesses {
  readonly logs: string[] = [];
  readonly children = new Map<string, ChildProcess>();

  /** `env` is added to every process's environment (TUTTI_NATS_URL, TUTTI_WINDOW…). */
  constructor(private readonly env: () => Record<string, string>) {}

  start(name: string, role: string, args: string[] = [], env: Record<string, string> = {}) {
    return this.spawn(name, ['--role', role, ...args], env);
  }

  /** `npm start`'s single-process monitor. */
  startMonitor(name: string, args: string[] = [], env: Record<string, string> = {}) {
    return this.spawn(name, args, env);
  }

  private spawn(name: string, args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env(), TUTTI_NODE_NAME: name, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

  /** SIGTERM to every process still running; resolves once they have exited (SIGKILL after 5 s). */
  async stopAll(): Promise<void> {
    const running = [...this.children.values()].filter(
      (child) => child.exitCode === null && child.signalCode === null,
    );
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}
