/**
 * One process of a Tutti cluster (issue #13), running the roles it is given: `ingest` (its
 * streams' sources into the segment queue), `inference` (segments from the queue into answers
 * on the message log) and `gateway` (the HTTP API and dashboard over the bus, gateway.ts). Every
 * piece of state a stream needs lives in JetStream — which streams run where (StreamDirectory),
 * standing questions and rules (StandingKv), ingest positions, encoded segments (FeatureStore),
 * last answers — so any process can die and another carries on. Started by
 * `npm start -- --role ingest,inference,gateway` (any of them).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Subscription } from 'rxjs';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import { StandingQuestions } from '../answers/standing-questions.js';
import { InferencePool, threadsSaid, type Inference } from '../encoders/inference-pool.js';
import { questionTokenizer, readManifest } from '../encoders/model-manifest.js';
import type { StreamSpec } from '../config/venue-config.js';
import type { StreamConfig } from '../pipeline/live-stream.js';
import type { ClusterConfig } from './cluster-config.js';
import { ruleSet } from './cluster-alerts.js';
import { FeatureStore } from './feature-store.js';
import { Gateway, type GatewayConfig } from './gateway.js';
import { InferenceNode } from './inference-node.js';
import { LastAnswers } from './last-answers.js';
import { ingestStream, IngestPositions } from './ingest-node.js';
import { ensureMessageLog, MessagePublisher } from './message-bus.js';
import { connectToBus } from './nats-connection.js';
import { ensureSegmentQueue, workOnSegments, type SegmentWorker } from './segment-queue.js';
import { StandingKv } from './standing-kv.js';
import { StreamDirectory } from './stream-directory.js';

export const ROLES = ['ingest', 'inference', 'gateway'] as const;
export type Role = (typeof ROLES)[number];

export interface ClusterNodeConfig {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly bus: ClusterConfig;
  readonly profile: string;
  readonly variant?: string;
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  /**
   * The streams an ingest role was given (venue file, environment; with the questions they start
   * with, if none are stored). Given none, it takes up those the stream directory says it owned,
   * else `defaultStreams`.
   */
  readonly streams: readonly StreamSpec[];
  readonly defaultStreams: readonly StreamSpec[];
  /** A venue entry as a stream to run (its source, questions, rules). */
  readonly streamConfig: (spec: StreamSpec) => StreamConfig;
  /** A segment older than this when an inference node takes it is dropped and reported. */
  readonly staleAfterSeconds?: number;
  /** An inference role's worker threads (TUTTI_INFERENCE_WORKERS, default 1). */
  readonly inferenceWorkers?: number;
  /**
   * Segments an inference role handles at once (TUTTI_SEGMENTS_IN_FLIGHT; default one per
   * worker): more than the workers let segments of several streams share an encoder call.
   */
  readonly segmentsInFlight?: number;
  /** Where a gateway role listens, and who may read and control (as the single monitor's). */
  readonly gateway?: Omit<GatewayConfig, 'log' | 'name'>;
  readonly log: (line: string) => void;
}

export class ClusterNode {
  private readonly subscriptions: Subscription[] = [];
  private worker?: SegmentWorker;
  private inference?: Inference;
  private standing?: StandingKv;
  private directory?: StreamDirectory;
  private gateway?: Gateway;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly config: ClusterNodeConfig,
  ) {}

  static async start(config: ClusterNodeConfig): Promise<ClusterNode> {
    const connection = await connectToBus(config.bus, config.name, config.log);
    const node = new ClusterNode(connection, config);
    try {
      await ensureSegmentQueue(connection);
      await ensureMessageLog(connection);
      node.standing = await StandingKv.open(connection, config.log);
      node.directory = await StreamDirectory.open(connection, config.log);
      if (config.roles.includes('inference')) await node.startInference();
      if (config.roles.includes('ingest')) await node.startIngest();
      if (config.roles.includes('gateway')) await node.startGateway();
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  private async startIngest(): Promise<void> {
    const { config, connection } = this;
    const positions = await IngestPositions.open(connection);
    const tokenize = questionTokenizer(readManifest(config.profile));
    const owned = this.directory!.ownedBy(config.name);
    const specs = config.streams.length
      ? config.streams
      : owned.length
        ? owned
        : config.defaultStreams;
    if (!config.streams.length && owned.length)
      config.log(`${config.name}: taking up the streams it ran before, from the stream directory`);
    for (const spec of specs) {
      await this.directory!.claim(config.name, spec);
      const stream = config.streamConfig(spec);
      await this.seedStanding(stream, tokenize);
      this.subscriptions.push(
        ingestStream(connection, positions, stream, { log: config.log }).subscribe({
          error: (error: Error) => config.log(`ingest ${stream.id}: stopped: ${error.message}`),
          complete: () => config.log(`ingest ${stream.id}: source ended`),
        }),
      );
    }
    config.log(`${config.name}: ingesting ${specs.map((s) => s.id).join(', ')}`);
  }

  /** A stream's first questions and rules, unless the cluster already holds some for it. */
  private async seedStanding(stream: StreamConfig, tokenize: (s: string) => number[]) {
    const standing = this.standing!;
    if (stream.questions?.length && !standing.latest(stream.id, 'questions')) {
      const questions = new StandingQuestions(tokenize);
      for (const question of stream.questions) questions.add(question);
      await standing.save({
        type: 'questions',
        stream: stream.id,
        questions: questions.describe(),
      });
    }
    if (stream.rules?.length && !standing.latest(stream.id, 'rules')) {
      const rules = ruleSet(stream.id, standing, []);
      for (const rule of stream.rules) rules.add(rule);
      await standing.save({ type: 'rules', stream: stream.id, rules: rules.list() });
    }
  }

  private async startInference(): Promise<void> {
    const { config, connection } = this;
    const manifest = readManifest(config.profile);
    const workers = config.inferenceWorkers ?? 1;
    const inFlight = config.segmentsInFlight ?? workers;
    const inference = await InferencePool.start(
      { profile: config.profile, variant: config.variant ?? 'full' },
      {},
      workers,
    );
    this.inference = inference;
    const publisher = new MessagePublisher(connection);
    const publish = (message: ServerMessage) => publisher.publish(message);
    const node = new InferenceNode(
      await FeatureStore.open(connection),
      this.standing!,
      await LastAnswers.open(connection),
      {
        windowSeconds: config.windowSeconds,
        hopSeconds: config.hopSeconds,
        patchGrid: manifest.patchGrid,
        tokenize: questionTokenizer(manifest),
        encode: async (segment) =>
          (await inference.encode(segment.samples, segment.frame)).features,
        answer: (segments, questions) => inference.answer(segments, questions),
        publish,
      },
    );
    this.worker = await workOnSegments(
      connection,
      async (segment) => void (await node.handle(segment)),
      {
        staleAfterMs: (config.staleAfterSeconds ?? 5) * 1000,
        inFlight,
        stale: (segment, age) =>
          void publish({
            type: 'error',
            message: `stream ${segment.stream}: segment ${segment.index} was ${(age / 1000).toFixed(1)} s old when taken; skipped`,
          }),
      },
    );
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    config.log(
      `${config.name}: answering on ${inference.provider} (${manifest.profile}; ${[count(workers, 'worker'), ...threadsSaid(inference), `${count(inFlight, 'segment')} at once`].join(', ')})`,
    );
  }

  /** The gateway's address, where this node runs one. */
  get gatewayUrl(): string | undefined {
    return this.gateway?.url;
  }

  private async startGateway(): Promise<void> {
    const { config } = this;
    if (!config.gateway) throw new Error('a gateway needs where to listen (host, port, token)');
    this.gateway = await Gateway.start(this.connection, this.standing!, this.directory!, {
      ...config.gateway,
      name: config.name,
      log: config.log,
    });
    config.log(`${config.name}: gateway listening on ${this.gateway.url}`);
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.worker?.stop();
    this.standing?.close();
    this.directory?.close();
    await this.inference?.close();
    await this.connection.close();
  }
}
