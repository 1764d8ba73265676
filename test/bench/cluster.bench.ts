/**
 * `npm run bench -- --cluster` (issue #13): the cluster's speed on this machine against the
 * single-process monitor, the same streams and questions, in the same run. For 1, 2 and 3
 * `--role inference` processes (with one `--role ingest` and one `--role gateway` process, on a
 * fresh nats-server each time) and for `npm start`'s monitor: answers per second at a dashboard,
 * hops skipped, and the latency from the end of a hop's audio to the answer at the dashboard
 * (p50 / p99, the answer's `audioEndedAt` against the time it arrived). The bus's overhead per hop
 * is the difference of the medians.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import { connectDashboard, type Dashboard } from '../support/dashboard-socket.js';
import { freePort } from '../support/free-port.js';
import { NatsServer } from '../support/nats-server.js';
import { RoleProcesses } from '../support/role-processes.js';
import { until } from '../support/until.js';

const TOKEN = 'cluster-bench';
const QUESTIONS = [
  'How many instruments are sounding in the video?',
  'Is there a flute sound?',
  'Is the clarinet louder than the piano?',
  'What is the first instrument that comes in?',
];

export interface ClusterRun {
  readonly setup: string;
  readonly streams: number;
  readonly seconds: number;
  readonly answersPerSecond: number;
  readonly hopsSkipped: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

export interface ClusterBench {
  readonly runs: ClusterRun[];
  /** Cluster with one inference process, p50 latency minus the single monitor's. */
  readonly busOverheadMs: number;
}

/** Streams × questions answered at `url` for `seconds`, after the first answer of every stream. */
async function measure(url: string, streams: string[], seconds: number, setup: string) {
  const dashboard: Dashboard = await connectDashboard(url, TOKEN);
  const latencies: number[] = [];
  let skipped = 0;
  let counting = false;
  dashboard.onMessage((m: ServerMessage) => {
    if (!counting) return;
    if (m.type === 'answer') latencies.push(Date.now() - m.audioEndedAt);
    if (m.type === 'error' && / skipped$/.test(m.message)) skipped += 1;
  });
  // A gateway knows a stream once its ingest node has stored its questions.
  const listed = () =>
    dashboard.messages.some(
      (m) => m.type === 'streams' && streams.every((s) => m.streams.includes(s)),
    );
  await until(listed, `${setup}: streams listed`, 30_000);
  for (const stream of streams) dashboard.send({ type: 'subscribe', stream });
  const answered = (stream: string) =>
    dashboard.messages.some((m) => m.type === 'answer' && m.stream === stream);
  await until(() => streams.every(answered), `${setup}: first answers`, 90_000);
  await new Promise((resolve) => setTimeout(resolve, 5000)); // past the first windows
  counting = true;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  counting = false;
  dashboard.close();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return {
    setup,
    streams: streams.length,
    seconds,
    answersPerSecond: Math.round((10 * latencies.length) / seconds) / 10,
    hopsSkipped: skipped,
    latencyP50Ms: at(0.5),
    latencyP99Ms: at(0.99),
  };
}

function venueFile(streams: string[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-bench-cluster-')), 'venue.json');
  writeFileSync(
    file,
    JSON.stringify({
      streams: streams.map((id) => ({ id, source: { demo: true }, questions: QUESTIONS })),
    }),
  );
  return file;
}

export async function benchCluster(streamCount = 8, seconds = 30): Promise<ClusterBench> {
  const streams = Array.from({ length: streamCount }, (_, i) => `stage-${i + 1}`);
  const venue = venueFile(streams);
  const runs: ClusterRun[] = [];

  // The single monitor: `npm start` with the same streams.
  {
    const port = await freePort();
    const processes = new RoleProcesses(() => ({}));
    processes.startMonitor('monitor', ['--config', venue], {
      TUTTI_PORT: String(port),
      TUTTI_TOKEN: TOKEN,
      TUTTI_DB: ':memory:',
    });
    try {
      await until(
        () => processes.linesOf('monitor', 'listening on').length === 1,
        'monitor',
        90_000,
      );
      runs.push(await measure(`http://127.0.0.1:${port}`, streams, seconds, 'single monitor'));
    } finally {
      await processes.stopAll();
    }
  }

  for (const inference of [1, 2, 3]) {
    const server = await NatsServer.start();
    const port = await freePort();
    const processes = new RoleProcesses(() => ({ TUTTI_NATS_URL: server.url, TUTTI_TOKEN: TOKEN }));
    try {
      for (let n = 1; n <= inference; n++) processes.start(`inference-${n}`, 'inference');
      processes.start('gateway', 'gateway', [], { TUTTI_PORT: String(port) });
      await until(
        () =>
          processes.logs.filter((l) => l.includes('answering on')).length === inference &&
          processes.linesOf('gateway', 'dashboard:').length === 1,
        'cluster ready',
        90_000,
      );
      processes.start('ingest', 'ingest', ['--config', venue]);
      runs.push(
        await measure(
          `http://127.0.0.1:${port}`,
          streams,
          seconds,
          `cluster, ${inference} inference process${inference > 1 ? 'es' : ''}`,
        ),
      );
    } finally {
      await processes.stopAll();
      await server.stop();
    }
  }
  return { runs, busOverheadMs: runs[1]!.latencyP50Ms - runs[0]!.latencyP50Ms };
}

export function printCluster(result: ClusterBench): void {
  const streams = result.runs[0]?.streams ?? 0;
  console.log(`\ncluster (${streams} demo streams, 4 questions each, tiny profile; this machine):`);
  console.log('setup                              answers/s  skipped  p50 ms  p99 ms');
  for (const run of result.runs)
    console.log(
      `${run.setup.padEnd(34)} ${String(run.answersPerSecond).padStart(9)}  ${String(run.hopsSkipped).padStart(7)}  ${String(run.latencyP50Ms).padStart(6)}  ${String(run.latencyP99Ms).padStart(6)}`,
    );
  console.log(
    `bus overhead per hop (p50, 1 inference process vs monitor): ${result.busOverheadMs} ms`,
  );
}
