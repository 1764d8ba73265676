/**
 * Cluster mode (issue #13): inference nodes sharing a stream's segments through JetStream answer
 * every hop once, each over the whole window whichever node encoded its segments, and a node that
 * hangs on a hop loses nothing: the hop is answered by another after the ack wait. The encoder and
 * head are stubs (this is about delivery and window state; the tiny profile's answers through the
 * same window code are tested in stream-pipeline and live-agreement).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureStore } from '../server/cluster/feature-store.js';
import { InferenceNode, type InferenceNodeOptions } from '../server/cluster/inference-node.js';
import { LastAnswers } from '../server/cluster/last-answers.js';
import {
  ensureMessageLog,
  followMessages,
  MessagePublisher,
} from '../server/cluster/message-bus.js';
import { encodeSegment } from '../server/cluster/segment-record.js';
import {
  ensureSegmentQueue,
  publishSegment,
  workOnSegments,
  type QueuedSegment,
  type SegmentWorker,
} from '../server/cluster/segment-queue.js';
import { StandingKv } from '../server/cluster/standing-kv.js';
import type { Answered } from '../server/encoders/qstar-answerer.js';
import type { SegmentFeatures } from '../server/encoders/segment-encoders.js';
import type { Segment } from '../server/segments/to-segments.js';
import { layOutWindow } from '../server/windows/feature-window.js';
import type { AnswerMessage, ServerMessage } from '../shared/protocol/messages.js';
import { ANSWERS, tokenizeQuestion } from '../shared/question-space/index.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

const WINDOW = 5;

/** Features that say which segment they came from (every value = its index). */
async function stubEncode(segment: Segment) {
  const tensor = (dims: number[]) => ({
    dims,
    data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(segment.index),
  });
  return {
    ast: tensor([1, 2, 3]),
    audio: tensor([1, 4]),
    frame: tensor([1, 3]),
    patches: tensor([1, 2, 3]),
  };
}

/** A head that answers "yes" when the window holds WINDOW consecutive segments (or all since 0). */
async function stubAnswer(segments: readonly SegmentFeatures[]): Promise<Answered> {
  const batch = layOutWindow(segments);
  const per = batch.dims.frame;
  const firsts = Array.from({ length: batch.segments }, (_, t) => batch.frames[t * per]!);
  const consecutive = firsts.every((v, t) => t === 0 || v === firsts[t - 1]! + 1);
  const complete = consecutive && (batch.segments === WINDOW || firsts[0] === 0);
  const probabilities = new Float32Array(batch.batch * ANSWERS.length);
  for (let b = 0; b < batch.batch; b++)
    probabilities[b * ANSWERS.length + ANSWERS.indexOf(complete ? 'yes' : 'no')] = 1;
  return {
    probabilities,
    frequency: new Float32Array(batch.batch * batch.dims.bands),
    spatial: new Float32Array(batch.batch * batch.segments * batch.dims.patches),
    temporal: new Float32Array(batch.batch * batch.segments),
  };
}

/** A node's settings with the stub encoder and head, publishing through `publish`. */
const stubOptions = (publish: InferenceNodeOptions['publish']): InferenceNodeOptions => ({
  windowSeconds: WINDOW,
  hopSeconds: 1,
  patchGrid: [1, 2],
  tokenize: tokenizeQuestion,
  encode: stubEncode,
  answer: stubAnswer,
  publish,
});

const segment = (index: number): Segment => ({
  index,
  start: index,
  samples: new Float32Array(1600),
  frame: { width: 4, height: 4, data: new Uint8Array(48).fill(index) },
});

describe('inference nodes on the bus', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];
  const workers: SegmentWorker[] = [];
  const stores: StandingKv[] = [];
  const heard: ServerMessage[] = [];
  const connect = async (name: string) => {
    const connection = await server.connectRole(name);
    connections.push(connection);
    return connection;
  };
  /** A role's connection and standing questions, `stream` asked what stage-1 is asked. */
  const askedLikeStage1 = async (name: string, stream: string) => {
    const connection = await connect(name);
    const standing = await StandingKv.open(connection, () => {});
    stores.push(standing);
    await until(() => standing.latest('stage-1', 'questions') !== undefined, 'questions');
    await standing.save({ ...standing.latest('stage-1', 'questions')!, stream });
    await until(() => standing.latest(stream, 'questions') !== undefined, 'questions');
    return { connection, standing };
  };
  /**
   * A node; with `hangFrom` it never finishes the first segment it takes from that index on (as
   * if it died holding it), and takes no more: `hung` says which.
   */
  const hung: number[] = [];
  let release = () => {}; // lets the hung handler end when the test does
  const startNode = async (name: string, handled: number[], hangFrom?: number) => {
    const connection = await connect(name);
    const standing = await StandingKv.open(connection, () => {});
    stores.push(standing);
    const publisher = new MessagePublisher(connection);
    const node = new InferenceNode(
      await FeatureStore.open(connection),
      standing,
      await LastAnswers.open(connection),
      stubOptions((message) => publisher.publish(message)),
    );
    const worker = await workOnSegments(
      connection,
      async (queued: QueuedSegment) => {
        if (hangFrom !== undefined && queued.index >= hangFrom) {
          hung.push(queued.index);
          await new Promise<void>((resolve) => (release = resolve));
          throw new Error('the test is over');
        }
        handled.push(queued.index);
        await node.handle(queued);
      },
      { staleAfterMs: 30_000, stale: () => {}, hungAfterMs: 1000 },
    );
    workers.push(worker);
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    const setup = await connect('setup');
    await ensureSegmentQueue(setup, { maxPerStream: 30, ackWaitMs: 1000, maxDeliveries: 3 });
    await ensureMessageLog(setup);
    const standing = await StandingKv.open(setup, () => {});
    stores.push(standing);
    await standing.save({
      type: 'questions',
      stream: 'stage-1',
      questions: [
        {
          id: 'q1',
          sentence: 'Is there a flute sound?',
          templateId: 'audio-existence',
          type: { modality: 'Audio', kind: 'Counting' },
        },
      ],
    });
    await followMessages(
      setup,
      (message) => heard.push(message),
      () => {},
    );
  });
  afterAll(async () => {
    release();
    await Promise.all(workers.map((w) => w.stop()));
    for (const store of stores) store.close();
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  });

  it('reads from the bus only the window segments another node encoded', async () => {
    const { connection, standing } = await askedLikeStage1('inference-cache', 'stage-cache');
    const published: ServerMessage[] = [];
    const nodeOn = async () => {
      const store = await FeatureStore.open(connection);
      const node = new InferenceNode(
        store,
        standing,
        await LastAnswers.open(connection),
        stubOptions(async (message) => void published.push(message)),
      );
      return { store, node };
    };
    const queued = async (index: number): Promise<QueuedSegment> => ({
      stream: 'stage-cache',
      index,
      producedAt: Date.now(),
      payload: await encodeSegment(segment(index)),
      delivery: 1,
    });
    const first = await nodeOn();
    for (let index = 0; index < 12; index++) await first.node.handle(await queued(index));
    expect(first.store.reads).toBe(0); // every window from what it encoded itself
    const second = await nodeOn();
    const answered = await second.node.handle(await queued(12));
    expect(second.store.reads).toBe(WINDOW - 1); // segments 8 … 11, once
    expect(answered.find((m) => m.type === 'answer')).toMatchObject({
      answer: 'yes',
      window: { start: 8, end: 13 },
    });
    await second.node.handle(await queued(13));
    expect(second.store.reads).toBe(WINDOW - 1); // nothing more to fetch
  });

  it('reports each change of answer once while the hops of a stream alternate between nodes', async () => {
    const { connection, standing } = await askedLikeStage1('inference-changes', 'stage-turns');
    const published: ServerMessage[] = [];
    const nodes = await Promise.all(
      [0, 1].map(
        async () =>
          new InferenceNode(
            await FeatureStore.open(connection),
            standing,
            await LastAnswers.open(connection),
            {
              ...stubOptions(async (message) => void published.push(message)),
              windowWaitMs: 20,
            },
          ),
      ),
    );
    // Segment 6 never comes: the windows that should hold it answer "no" (not whole), the first
    // whole one after it "yes" again. Even segments go to one node, odd ones to the other.
    for (let index = 0; index < 12; index++)
      if (index !== 6)
        await nodes[index % 2]!.handle({
          stream: 'stage-turns',
          index,
          producedAt: Date.now(),
          payload: await encodeSegment(segment(index)),
          delivery: 1,
        });
    const changes = published.filter((m) => m.type === 'answer-change');
    expect(changes.map((m) => [m.window.end, m.from, m.to])).toEqual([
      [1, null, 'yes'],
      [8, 'yes', 'no'],
      [12, 'no', 'yes'],
    ]);
    const flagged = published.filter((m) => m.type === 'answer' && m.changed);
    expect(flagged.map((m) => m.type === 'answer' && m.window.end)).toEqual([8, 12]);
  });

  it('tells the changes of a hop again when it is redelivered after its publishing failed', async () => {
    const { connection, standing } = await askedLikeStage1('inference-redelivered', 'stage-again');
    const published: ServerMessage[] = [];
    let busDown = false;
    const node = new InferenceNode(
      await FeatureStore.open(connection),
      standing,
      await LastAnswers.open(connection),
      {
        ...stubOptions(async (message) => {
          if (busDown) throw new Error('the answer log does not answer');
          published.push(message);
        }),
        windowWaitMs: 20,
      },
    );
    const handle = async (index: number, delivery = 1) =>
      node.handle({
        stream: 'stage-again',
        index,
        producedAt: Date.now(),
        payload: await encodeSegment(segment(index)),
        delivery,
      });
    // The first hop and the hop that changes (segment 6 never comes) fail to publish once, after
    // their answers were recorded on the bus; each is redelivered to the same node.
    for (const index of [0, 1, 2, 3, 4, 5, 7]) {
      if (index === 0 || index === 7) {
        busDown = true;
        await expect(handle(index)).rejects.toThrow('does not answer');
        busDown = false;
        await handle(index, 2);
      } else await handle(index);
    }
    const changes = published.filter((m) => m.type === 'answer-change');
    expect(changes.map((m) => [m.window.end, m.from, m.to])).toEqual([
      [1, null, 'yes'],
      [8, 'yes', 'no'],
    ]);
  });

  it('answers every hop once over its whole window, and a hop a node hung on is answered by another', async () => {
    const [a, b] = [[] as number[], [] as number[]];
    await startNode('inference-a', a, 6);
    await startNode('inference-b', b);
    await until(
      () => stores.every((s) => s.latest('stage-1', 'questions') !== undefined),
      'questions everywhere',
    );
    const ingest = await connect('ingest');
    for (let index = 0; index < 16; index++) {
      await publishSegment(ingest, {
        stream: 'stage-1',
        index,
        payload: await encodeSegment(segment(index)),
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const answers = () => heard.filter((m): m is AnswerMessage => m.type === 'answer');
    await until(() => answers().length >= 16, 'every hop answered', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // any repeat would arrive by now
    const ends = answers().map((m) => m.window.end);
    expect([...ends].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    // Both nodes worked; the segment the hung node held was done by the other, after the ack wait.
    expect(a.length).toBeGreaterThan(0);
    expect(hung).toHaveLength(1);
    const lost = hung[0]!;
    expect(b).toContain(lost);
    expect(a).not.toContain(lost);
    // Every window before it whole and consecutive, whichever node encoded its segments; so is
    // the hung segment's own hop (answered after its redelivery, with everything before it).
    const at = (end: number) => answers().find((m) => m.window.end === end)!;
    for (let end = 1; end <= lost + 1; end++)
      expect(at(end).answer, `hop ending ${end}`).toBe('yes');
    expect(at(lost + 1).window).toEqual({ start: Math.max(0, lost - WINDOW + 1), end: lost + 1 });
  }, 60_000);
});
