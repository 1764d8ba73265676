/**
 * Issue #13's cluster at its stated size, as processes on one machine and a real nats-server:
 * two `--role ingest` processes with four demo streams each, three `--role inference` processes
 * (tiny profile) and two `--role gateway` processes. A dashboard on each gateway follows all eight
 * streams: each sees every hop of every stream once — answered, or reported as skipped (a segment
 * too old when taken on this 2-core machine) — and both see the same answers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { connectDashboard, type Dashboard } from './support/dashboard-socket.js';
import { freePort } from './support/free-port.js';
import { NatsServer } from './support/nats-server.js';
import { RoleProcesses } from './support/role-processes.js';
import { until } from './support/until.js';

const TOKEN = 'cluster-scale-token';
const STREAMS = Array.from({ length: 8 }, (_, i) => `stage-${i + 1}`);

describe('2 ingest + 3 inference + 2 gateway processes, 8 streams', () => {
  let server: NatsServer;
  const processes = new RoleProcesses(() => ({
    TUTTI_NATS_URL: server.url,
    TUTTI_WINDOW: '4',
    TUTTI_TOKEN: TOKEN,
  }));
  const gateways: string[] = [];
  const dashboards: Dashboard[] = [];
  /** Per answer on the first gateway: receive time minus when its hop's audio ended, ms. */
  const latencies: number[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-scale-'));
    for (const [i, streams] of [STREAMS.slice(0, 4), STREAMS.slice(4)].entries()) {
      const venue = path.join(dir, `venue-${i + 1}.json`);
      writeFileSync(
        venue,
        JSON.stringify({
          streams: streams.map((id) => ({
            id,
            source: { demo: true },
            questions: ['Is there a flute sound?'],
          })),
        }),
      );
      processes.start(`ingest-${i + 1}`, 'ingest', ['--config', venue]);
    }
    for (const n of [1, 2, 3]) processes.start(`inference-${n}`, 'inference');
    for (const n of [1, 2]) {
      const port = await freePort();
      processes.start(`gateway-${n}`, 'gateway', [], { TUTTI_PORT: String(port) });
      gateways.push(`http://127.0.0.1:${port}`);
    }
    await until(
      () =>
        [1, 2, 3].every((n) => processes.linesOf(`inference-${n}`, 'answering on').length) &&
        [1, 2].every((n) => processes.linesOf(`gateway-${n}`, 'dashboard:').length),
      'every process ready',
      120_000,
    );
  }, 150_000);
  afterAll(async () => {
    for (const d of dashboards) d.close();
    await processes.stopAll();
    await server?.stop();
  });

  it('shows every hop of every stream once on either gateway, answered or reported skipped', async () => {
    for (const url of gateways) dashboards.push(await connectDashboard(url, TOKEN));
    dashboards[0]!.onMessage((m) => {
      if (m.type === 'answer') latencies.push(Date.now() - m.audioEndedAt);
    });
    for (const d of dashboards) for (const stream of STREAMS) d.send({ type: 'subscribe', stream });
    const answers = (d: Dashboard, stream: string) =>
      d.messages.filter(
        (m): m is Extract<ServerMessage, { type: 'answer' }> =>
          m.type === 'answer' && m.stream === stream,
      );
    const progress = setInterval(() => {
      const counts = dashboards.map((d) => STREAMS.map((s) => answers(d, s).length).join(' '));
      const errors = dashboards[0]!.messages.filter((m) => m.type === 'error').length;
      console.log(`answers per stream: ${counts.join(' | ')}; errors ${errors}`);
    }, 10_000);
    await until(
      () => dashboards.every((d) => STREAMS.every((s) => answers(d, s).length >= 5)),
      'five answers of every stream on both gateways',
      150_000,
    )
      .catch((error: unknown) => {
        console.log(processes.logs.slice(-40).join('\n'));
        throw error;
      })
      .finally(() => clearInterval(progress));
    for (const stream of STREAMS) {
      const [onFirst, onSecond] = dashboards.map((d) =>
        answers(d, stream).map((m) => m.window.end),
      );
      for (const ends of [onFirst!, onSecond!])
        expect(new Set(ends).size, `${stream}: a hop twice`).toBe(ends.length);
      // From the first hop both saw on: the same hops, on either gateway.
      const from = Math.max(onFirst![0]!, onSecond![0]!);
      const upTo = Math.min(onFirst!.at(-1)!, onSecond!.at(-1)!);
      const within = (ends: number[]) => ends.filter((end) => end >= from && end <= upTo);
      expect(within(onFirst!), `${stream}: the gateways differ`).toEqual(within(onSecond!));
      // A hop not answered was reported.
      const reported = dashboards[0]!.messages.filter(
        (m) => m.type === 'error' && m.message.startsWith(`stream ${stream}: segment `),
      );
      for (let end = from; end <= upTo; end++)
        if (!onFirst!.includes(end))
          expect(
            reported.some((m) => m.type === 'error' && m.message.includes(`segment ${end - 1} `)),
            `${stream}: hop ending ${end} neither answered nor reported`,
          ).toBe(true);
    }
    const skipped = dashboards[0]!.messages.filter((m) => m.type === 'error').length;
    const answered = STREAMS.reduce((n, s) => n + answers(dashboards[0]!, s).length, 0);
    const sorted = latencies.sort((x, y) => x - y);
    const quantile = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(
      `8 streams on 3 inference processes: ${answered} answered, ${skipped} skipped; ` +
        `latency (end of a hop's audio to the answer at a gateway) p50 ${quantile(0.5)} ms, p99 ${quantile(0.99)} ms`,
    );
    // The answer's latency counts the bus and the queue: never less than a hop's encoding.
    expect(sorted[0]).toBeGreaterThan(0);
  }, 200_000);
});
