/**
 * Cluster mode, first layer (issue #13): every role sees the same standing questions and rules,
 * through JetStream KV on a real nats-server, and they survive the server's death.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { STANDING_BUCKET, StandingKv } from '../server/cluster/standing-kv.js';
import type { QuestionsMessage } from '../shared/protocol/messages.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

const questions = (stream: string, ...texts: string[]): QuestionsMessage => ({
  type: 'questions',
  stream,
  questions: texts.map((sentence, i) => ({
    id: `q${i + 1}`,
    sentence,
    templateId: 'audio-existence',
    type: { modality: 'Audio', kind: 'Counting' },
  })),
});

describe('standing questions in JetStream KV', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];
  const stores: StandingKv[] = [];
  const lines: string[] = [];
  const role = async (name: string) => {
    const connection = await server.connectRole(name, lines);
    connections.push(connection);
    const store = await StandingKv.open(connection, (line) => lines.push(line));
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    for (const store of stores) store.close();
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  });

  it('shows a change made by one role to every other, and to a role that starts later', async () => {
    const gatewayA = await role('gateway-a');
    const gatewayB = await role('gateway-b');
    const seen: string[] = [];
    gatewayB.onChange((message) => seen.push(`${message.type} ${message.stream}`));
    await gatewayA.save(questions('stage-1', 'Is there a flute sound?'));
    await until(() => gatewayB.latest('stage-1', 'questions') !== undefined, 'the change at B');
    expect(gatewayB.latest('stage-1', 'questions')).toEqual(
      questions('stage-1', 'Is there a flute sound?'),
    );
    expect(seen).toEqual(['questions stage-1']);
    expect(gatewayB.latest('stage-1', 'rules')).toBeUndefined();
    const later = await role('inference-1');
    expect(later.latest('stage-1', 'questions')?.questions).toHaveLength(1);
  });

  it('skips, and says so, a value that is not a valid message, keeping the one before', async () => {
    const store = await role('gateway-c');
    await store.save(questions('stage-2', 'Is there a flute sound?'));
    const kv = await new Kvm(connections.at(-1)!).open(STANDING_BUCKET);
    await kv.put('questions.stage-2', '{"type": "questions", "stream": "stage-2"}');
    await kv.put('rules.stage-2', 'not json');
    // Every role holding the bucket says it (the roles of this file share one log).
    const said = () => [...new Set(lines.filter((l) => l.includes('stage-2')))].sort();
    await until(() => said().length === 2, 'both said');
    expect(said()).toEqual([
      'bucket tutti-standing: questions.stage-2: not a valid questions message; ignored',
      'bucket tutti-standing: rules.stage-2: not a valid rules message; ignored',
    ]);
    expect(store.latest('stage-2', 'questions')?.questions).toHaveLength(1);
  });

  it('stores a change made while the server does not answer, once it answers again', async () => {
    const [gatewayA, gatewayB] = stores;
    await server.stalledWhile(() =>
      gatewayA!.save(questions('stage-3', 'Is there a piano sound?')),
    );
    await until(() => gatewayB!.latest('stage-3', 'questions') !== undefined, 'the change at B');
    expect(gatewayB!.latest('stage-3', 'questions')?.questions[0]?.sentence).toBe(
      'Is there a piano sound?',
    );
  }, 60_000);

  it('keeps them through a killed nats-server: every role reconnects by itself and goes on', async () => {
    const [gatewayA, gatewayB] = stores;
    await gatewayA!.save(
      questions(
        'stage-2',
        'Is there a violin sound?',
        'How many instruments are sounding in the video?',
      ),
    );
    await until(() => gatewayB!.latest('stage-2', 'questions') !== undefined, 'the change at B');
    await server.kill('SIGKILL');
    await until(
      () => lines.includes(`gateway-a: lost the bus (${server.url})`),
      'the loss noticed',
    );
    await server.launch();
    await until(
      () => lines.filter((line) => line.endsWith(': back on the bus')).length >= 3,
      'every role back',
      20_000,
    );
    // What was stored is still there for a role that starts now,
    const fresh = await role('inference-2');
    expect(fresh.latest('stage-2', 'questions')?.questions).toHaveLength(2);
    // and a change after the restart still reaches the roles that lived through it.
    await gatewayB!.save(questions('stage-2', 'Is there a cello sound?'));
    await until(
      () => gatewayA!.latest('stage-2', 'questions')?.questions.length === 1,
      'the change after the restart at A',
      20_000,
    );
    expect(gatewayA!.latest('stage-2', 'questions')?.questions[0]?.sentence).toBe(
      'Is there a cello sound?',
    );
  }, 60_000);
});
