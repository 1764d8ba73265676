/**
 * A real nats-server with JetStream for a test: on a free loopback port, its store in a
 * temporary folder (kept across restarts, as a real deployment keeps it), killable and restartable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { clusterConfigFromEnv } from '../../server/cluster/cluster-config.js';
import { connectToBus } from '../../server/cluster/nats-connection.js';
import { freePort } from './free-port.js';

export class NatsServer {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(extraArgs: string[] = []): Promise<NatsServer> {
    const server = new NatsServer(
      await freePort(),
      mkdtempSync(path.join(tmpdir(), 'tutti-nats-')),
      extraArgs,
    );
    await server.launch();
    return server;
  }

  /** Starts it again on the same port and store (after `kill`). */
  async launch(): Promise<void> {
    const child = spawn(
      'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir, ...this.extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server is ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`nats-server exited ${code}: ${output}`)));
    });
  }

  /** Kills it (SIGKILL by default: no goodbye to the clients). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /**
   * Starts `work` with the server stalled (SIGSTOP: connections stay open, nothing is answered)
   * for `ms` (default: past a request's 5 s timeout), then lets it go on (SIGCONT); `work`'s result.
   */
  async stalledWhile<T>(work: () => Promise<T>, ms = 6_000): Promise<T> {
    this.child?.kill('SIGSTOP');
    const working = work();
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.child?.kill('SIGCONT');
    return working;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  /** A role's connection, as a role makes it from TUTTI_NATS_URL; its log lines go to `lines`. */
  connectRole(name: string, lines: string[] = []): Promise<NatsConnection> {
    return connectToBus(clusterConfigFromEnv({ TUTTI_NATS_URL: this.url }), name, (line) =>
      lines.push(line),
    );
  }
}
