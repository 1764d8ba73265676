/**
 * Cluster mode, second layer (issue #13): what streams say travels over JetStream from the role
 * that produced it to every gateway, each hop's answer once, through a killed nats-server.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureMessageLog,
  followMessages,
  MessagePublisher,
} from '../server/cluster/message-bus.js';
import type { AnswerMessage, ServerMessage } from '../shared/protocol/messages.js';
import type { AlertMessage } from '../shared/protocol/rules.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

const answer = (stream: string, end: number, said = 'yes'): AnswerMessage => ({
  type: 'answer',
  stream,
  questionId: 'q1',
  sentence: 'Is there a flute sound?',
  questionType: 'Audio/Counting',
  answer: said,
  confidence: 0.9,
  alternatives: [{ answer: said, probability: 0.9 }],
  window: { start: end - 10, end },
  latencyMs: 40,
  audioEndedAt: Date.now(),
  changed: false,
  attention: { frequency: [1], temporal: [1], spatial: [[1]], patchGrid: [1, 1] },
});

describe('messages on the bus', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];
  const lines: string[] = [];
  const connectRole = async (name: string) => {
    const connection = await server.connectRole(name, lines);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  });

  it('brings every answer to every gateway once, though a producer sends it twice', async () => {
    const inference = await connectRole('inference-1');
    await ensureMessageLog(inference);
    const [gatewayA, gatewayB] = await Promise.all([
      connectRole('gateway-a'),
      connectRole('gateway-b'),
    ]);
    const seen: Record<string, ServerMessage[]> = { a: [], b: [] };
    await followMessages(
      gatewayA,
      (m) => seen.a!.push(m),
      (l) => lines.push(l),
    );
    await followMessages(
      gatewayB,
      (m) => seen.b!.push(m),
      (l) => lines.push(l),
    );
    const publisher = new MessagePublisher(inference);
    for (let end = 10; end < 15; end++)
      expect(await publisher.publish(answer('stage-1', end))).toBe(true);
    // A redelivered hop answered again (at least once): the bus drops the repeat.
    expect(await publisher.publish(answer('stage-1', 12))).toBe(false);
    await until(
      () => seen.a!.length === 5 && seen.b!.length === 5,
      'five answers at both gateways',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const got of [seen.a!, seen.b!])
      expect(got.map((m) => (m.type === 'answer' ? m.window.end : -1))).toEqual([
        10, 11, 12, 13, 14,
      ]);
  });

  it('publishes what is said while the server does not answer, once it answers again', async () => {
    const [inference, gateway] = connections;
    const seen: ServerMessage[] = [];
    await followMessages(
      gateway!,
      (m) => 'stream' in m && m.stream === 'stage-3' && seen.push(m),
      (l) => lines.push(l),
    );
    const publisher = new MessagePublisher(inference!);
    const alert: AlertMessage = {
      type: 'alert',
      stream: 'stage-3',
      ruleId: 'r1',
      name: 'flute gone',
      description: 'Is there a flute sound? has been no for 10 s',
      since: Date.now() - 10_000,
      at: Date.now(),
    };
    // Both are kept: the first tries waited in the stalled server's socket, so the tries after
    // their timeouts are dropped as repeats by their message ids (false), and either way each
    // reaches the gateway once.
    await server.stalledWhile(() =>
      Promise.all([publisher.publish(answer('stage-3', 30)), publisher.publish(alert)]),
    );
    expect(await publisher.publish(alert)).toBe(false);
    await until(() => seen.length === 2, 'the answer and the alert');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.map((m) => m.type).sort()).toEqual(['alert', 'answer']);
  }, 60_000);

  it('keeps gateways following through a killed nats-server', async () => {
    const [inference, gateway] = connections;
    const seen: number[] = [];
    await followMessages(
      gateway!,
      (m) => m.type === 'answer' && seen.push(m.window.end),
      (l) => lines.push(l),
    );
    const publisher = new MessagePublisher(inference!);
    await publisher.publish(answer('stage-2', 20));
    await until(() => seen.length === 1, 'the answer before');
    await server.kill('SIGKILL');
    await server.launch();
    await until(
      () => lines.filter((line) => line === 'gateway-a: back on the bus').length >= 1,
      'the gateway back',
      20_000,
    );
    // Published once the producer is back too; the follower rebuilds its consumer by itself.
    await until(() => lines.includes('inference-1: back on the bus'), 'the producer back', 20_000);
    await publisher.publish(answer('stage-2', 21));
    await until(() => seen.includes(21), 'the answer after the restart', 20_000);
    expect(seen).toEqual([20, 21]);
  }, 60_000);
});
