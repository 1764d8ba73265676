/**
 * Open Sound Control out, received on loopback and decoded with an independent decoder (osc-min):
 * UDP datagrams and SLIP-framed TCP, the address pattern and type tags, per-stream targets, a TCP
 * receiver that starts late and one that restarts; and a live monitor sending its answers.
 */
import { createSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fromBuffer, type OscMessageOutput } from 'osc-min';
import { describe, expect, it } from 'vitest';
import type { AnswerChangeMessage, AnswerMessage } from '../shared/protocol/messages.js';
import { OscOutput } from '../server/outputs/osc-output.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { closedAfterEach, until } from './support/until.js';
import { demoStream, startLiveMonitor } from './support/live-monitor.js';

const answer = (stream: string, questionId: string, text: string): AnswerMessage =>
  ({
    type: 'answer',
    stream,
    questionId,
    sentence: 'Is there a flute sound?',
    questionType: 'Audio/Counting',
    answer: text,
    confidence: 0.75,
    alternatives: [],
    window: { start: 0, end: 10 },
    latencyMs: 20,
    audioEndedAt: Date.UTC(2026, 10, 25, 20, 0, 0),
    changed: true,
    attention: { frequency: [], temporal: [], spatial: [], patchGrid: [1, 8] },
  }) satisfies AnswerMessage;

const change: AnswerChangeMessage = {
  type: 'answer-change',
  stream: 'stage',
  questionId: 'q1',
  sentence: 'Is there a flute sound?',
  from: null,
  to: 'yes',
  confidence: 0.75,
  window: { start: 0, end: 10 },
  at: Date.UTC(2026, 10, 25, 20, 0, 0),
};

/** A UDP receiver on loopback that decodes what it gets. */
async function udpReceiver() {
  const socket = createSocket('udp4');
  const received: OscMessageOutput[] = [];
  socket.on('message', (packet) => received.push(fromBuffer(packet) as OscMessageOutput));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { received, port: socket.address().port, close: () => socket.close() };
}

/** Undoes SLIP framing (RFC 1055) by hand, then decodes each packet. */
function slipPackets(bytes: Buffer): OscMessageOutput[] {
  const packets: OscMessageOutput[] = [];
  let current: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0xc0) {
      if (current.length) packets.push(fromBuffer(Buffer.from(current)) as OscMessageOutput);
      current = [];
    } else if (byte === 0xdb) current.push(bytes[++i] === 0xdc ? 0xc0 : 0xdb);
    else current.push(byte);
  }
  return packets;
}

async function tcpReceiver(port = 0) {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (d) => chunks.push(d));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    received: () => slipPackets(Buffer.concat(chunks)),
    port: (server.address() as AddressInfo).port,
    /** Stops listening and drops its connections, as a receiver that quits does. */
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const closers = closedAfterEach();

describe('OSC output', () => {
  it('sends answers and changes over UDP with the address pattern and OSC type tags', async () => {
    const receiver = await udpReceiver();
    closers.push(receiver.close);
    const osc = new OscOutput([{ url: `udp://127.0.0.1:${receiver.port}` }]);
    closers.push(() => osc.close());
    osc.send(answer('stage', 'q1', 'yes'));
    osc.send(change);
    osc.send({ type: 'streams', streams: ['stage'] }); // not an answer: not sent
    await until(() => receiver.received.length === 2, 'two packets');
    const [first, second] = receiver.received;
    expect(first!.address).toBe('/tutti/stage/q1');
    expect(first!.args.map((a) => ('type' in a ? a.type : 'array'))).toEqual([
      'string',
      'float',
      'integer',
      'string',
    ]);
    expect(first!.args.map((a) => ('value' in a ? a.value : null))).toEqual([
      'yes',
      0.75,
      1,
      '2026-11-25T20:00:00.000Z',
    ]);
    expect(second!.address).toBe('/tutti/stage/q1/change');
    expect(second!.args.map((a) => ('value' in a ? a.value : null))).toEqual([
      '',
      'yes',
      0.75,
      '2026-11-25T20:00:00.000Z',
    ]);
  });

  it('sends each stream only to its targets, with their own address and choice', async () => {
    const [a, b] = [await udpReceiver(), await udpReceiver()];
    closers.push(a.close, b.close);
    const osc = new OscOutput([
      { url: `udp://127.0.0.1:${a.port}`, streams: ['left'], address: '/desk/{questionId}' },
      { url: `udp://127.0.0.1:${b.port}`, send: 'changes' },
    ]);
    closers.push(() => osc.close());
    osc.send(answer('left', 'q7', 'no'));
    osc.send(answer('right', 'q8', 'yes'));
    osc.send(change);
    await until(() => a.received.length === 1 && b.received.length === 1, 'one packet each');
    await new Promise((r) => setTimeout(r, 100)); // nothing else arrives
    expect(a.received.map((m) => m.address)).toEqual(['/desk/q7']);
    expect(b.received.map((m) => m.address)).toEqual(['/tutti/stage/q1/change']);
  });

  it('sends over TCP with SLIP framing, waiting for a receiver that starts late or restarts', async () => {
    // A free port nobody listens on yet.
    const probe = await tcpReceiver();
    const port = probe.port;
    await probe.close();
    const logs: string[] = [];
    const osc = new OscOutput([{ url: `tcp://127.0.0.1:${port}` }], (l) => logs.push(l));
    closers.push(() => osc.close());
    osc.send(answer('stage', 'q1', 'yes')); // queued while nothing listens
    const late = await tcpReceiver(port);
    await until(() => late.received().length === 1, 'the queued answer');
    osc.send(answer('stage', 'q1', 'no'));
    await until(() => late.received().length === 2, 'the next answer');
    expect(late.received().map((m) => m.args[0])).toEqual([
      { type: 'string', value: 'yes' },
      { type: 'string', value: 'no' },
    ]);
    // The receiver restarts: once the output sees the connection gone, what it is given waits,
    // and is delivered when it has reconnected. (A message written the moment a receiver dies
    // is lost, as with any TCP sender.)
    await late.close();
    await until(() => logs.some((l) => l.includes('connection lost')), 'the loss to be seen');
    const again = await tcpReceiver(port);
    closers.push(() => again.close());
    osc.send(answer('stage', 'q1', 'yes'));
    await until(() => again.received().length >= 1, 'an answer after the restart', 20_000);
    expect(again.received().at(-1)!.args[0]).toEqual({ type: 'string', value: 'yes' });
    expect(logs.some((l) => l.includes('connected'))).toBe(true);
  }, 30_000);

  it('refuses a malformed target with the reason', () => {
    expect(() => new OscOutput([{ url: 'osc://desk:9000' }])).toThrow(
      /not udp:\/\/host:port or tcp:\/\/host:port/,
    );
  });

  it("sends a live monitor's answers", async () => {
    const receiver = await udpReceiver();
    closers.push(receiver.close);
    const live = await startLiveMonitor(
      {
        profile: path.join(REPO_ROOT, 'models', 'tiny'),
        token: 't',
        windowSeconds: 2,
        hopSeconds: 1,
        database: ':memory:',
        streams: [demoStream(['Is there a flute sound?'])],
        osc: [{ url: `udp://127.0.0.1:${receiver.port}`, send: 'answers' }],
      },
      ['demo'],
    );
    closers.push(() => live.stop());
    const sent = await live.waitFor<AnswerMessage>((m) => m.type === 'answer', {
      timeout: 60_000,
    });
    await until(() => receiver.received.length >= 1, 'an OSC answer');
    const first = receiver.received[0]!;
    expect(first.address).toBe(`/tutti/demo/${sent.questionId}`);
    expect(first.args[0]).toEqual({ type: 'string', value: sent.answer });
  }, 90_000);
});
