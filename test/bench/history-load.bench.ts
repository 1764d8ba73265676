/**
 * Live answering under heavy history readers (the attack in issue #12: four clients each pulling
 * the largest history page in a loop): answer latency (end of a hop's audio → answer on a
 * WebSocket client, p50/p95), answers delivered and hops skipped, with and without the readers,
 * on a log of 20,000 logged answers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EventLog } from '../../server/storage/event-log.js';
import type { AnswerMessage, ServerMessage } from '../../shared/protocol/messages.js';
import { REPO_ROOT } from '../support/musicavqa.js';
import { demoStream, startLiveMonitor } from '../support/live-monitor.js';

const TOKEN = 'bench';
const PHASE_SECONDS = 20;
const READERS = 4;

function loggedAnswer(k: number): ServerMessage {
  return {
    type: 'answer',
    stream: 'demo',
    questionId: `q${(k % 4) + 1}`,
    sentence: 'How many instruments are sounding in the video?',
    questionType: 'Audio-Visual/Counting',
    answer: 'two',
    confidence: 0.61,
    alternatives: [{ answer: 'three', probability: 0.2 }],
    window: { start: k, end: k + 10 },
    latencyMs: 40,
    audioEndedAt: Date.now(),
    changed: false,
    attention: {
      frequency: Array.from({ length: 8 }, () => 0.125),
      temporal: Array.from({ length: 10 }, () => 0.1),
      spatial: [],
      patchGrid: [1, 8],
    },
  };
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)] ?? NaN;

export async function benchHistoryLoad() {
  const database = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-bench-')), 'events.sqlite');
  const prefill = new EventLog(database);
  const now = Date.now();
  for (let k = 0; k < 20_000; k++) prefill.record(loggedAnswer(k), now - 200_000 + k * 10);
  prefill.close();
  const live = await startLiveMonitor(
    {
      profile: path.join(REPO_ROOT, 'models', 'tiny'),
      token: TOKEN,
      windowSeconds: 10,
      hopSeconds: 1,
      database,
      streams: [
        demoStream([
          'How many instruments are sounding in the video?',
          'Is there a flute sound?',
          'Is the clarinet louder than the piano?',
          'What is the first instrument that comes in?',
        ]),
      ],
    },
    ['demo'],
  );
  await live.waitFor((m) => m.type === 'answer', { timeout: 60_000 });
  const phase = async (readers: number) => {
    const from = live.messages.length;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let stop = false;
    let reads = 0;
    let bytes = 0;
    const url = `${live.monitor.url}/api/streams/demo/history?type=answer&limit=2000`;
    const loops = Array.from({ length: readers }, async () => {
      while (!stop) {
        const body = await (
          await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })
        ).text();
        bytes += body.length;
        reads += 1;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, PHASE_SECONDS * 1000));
    stop = true;
    await Promise.all(loops);
    delay.disable();
    const answers = live.messages
      .slice(from)
      .filter((m): m is AnswerMessage => m.type === 'answer');
    const latencies = answers.map((a) => a.latencyMs);
    return {
      readers,
      seconds: PHASE_SECONDS,
      answers: answers.length,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
      eventLoopMaxDelayMs: Math.round(delay.max / 1e6),
      historyReads: reads,
      historyMegabytes: Math.round(bytes / 1e5) / 10,
    };
  };
  const quiet = await phase(0);
  const loaded = await phase(READERS);
  const health = await (
    await fetch(`${live.monitor.url}/api/health`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json();
  await live.stop();
  return { quiet, loaded, health };
}

export function printHistoryLoad(result: Awaited<ReturnType<typeof benchHistoryLoad>>): void {
  console.log('\nlive answering under heavy history readers (demo, 4 questions, 1 s hop)');
  for (const p of [result.quiet, result.loaded])
    console.log(
      `  ${p.readers} readers: ${p.answers} answers in ${p.seconds} s, latency p50 ${Math.round(p.latencyP50Ms)} ms p95 ${Math.round(p.latencyP95Ms)} ms, ` +
        `event loop max delay ${p.eventLoopMaxDelayMs} ms, ${p.historyReads} history pages (${p.historyMegabytes} MB)`,
    );
}
