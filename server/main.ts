/**
 * `npm start`: the Tutti monitor on its embedded default — the shipped demo clip, looping in real
 * time, answered by the shipped `tiny` profile.
 *
 * Environment: TUTTI_PORT (8080), TUTTI_HOST (127.0.0.1: the controls are not meant for an open
 * network), TUTTI_TOKEN (the access token for adding and removing questions, and for reading; a
 * random one is made and printed when unset), TUTTI_READ_TOKEN (a token that may only read),
 * TUTTI_ALLOWED_HOSTS (comma-separated host names besides the machine's own that `Host` and a
 * browser's `Origin` may name), TUTTI_MAX_CAPTURES (4), TUTTI_STALL_SECONDS (10: a source silent
 * this long is restarted), TUTTI_PROFILE (models/paper when exported there, else models/tiny),
 * TUTTI_VARIANT (full, trained through rooms too; clean, the same on clean audio only; no_tfi, late_fusion),
 * TUTTI_PROVIDER (auto: CUDA, then WebGPU, then the CPU; or cuda, webgpu, cpu — an explicit one
 * that cannot load stops the start), TUTTI_FRONTEND (auto: the audio front-end as an ONNX graph on
 * that provider; or graph, typescript), TUTTI_WINDOW (10 s), TUTTI_HOP (1 s), TUTTI_DB (data/tutti.sqlite: every answer and stream
 * event), TUTTI_RETENTION_DAYS (7: how long the log keeps them). Extra streams: TUTTI_INPUT (a
 * file or RTSP/HTTP URL that ffmpeg opens; stream "input"), TUTTI_MIC (a PortAudio input device
 * id, or "default"; stream "microphone") and TUTTI_CAMERA (a V4L2 camera such as /dev/video0, or
 * "format:device" for another ffmpeg input device, with the sound of TUTTI_CAMERA_AUDIO, default
 * "pulse:default"; stream "camera"). TUTTI_OSC: comma-separated OSC targets (udp://host:port,
 * tcp://host:port) that get every stream's answers and answer changes. TUTTI_WEBHOOK_SECRET signs
 * the webhook deliveries of alerts (HMAC-SHA256).
 *
 * `npm start -- --config FILE` reads a venue file (JSON or YAML, server/config/venue-config.ts):
 * its streams replace the demo, its settings are used where the environment sets none.
 *
 * `npm start -- --role ingest,inference` runs this process as a node of a cluster on NATS
 * JetStream instead (server/cluster/cluster-node.ts; the bus from TUTTI_NATS_URL and the other
 * TUTTI_NATS_* settings; TUTTI_NODE_NAME names it in logs and on the bus).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Monitor } from './monitor.js';
import { clusterConfigFromEnv } from './cluster/cluster-config.js';
import { ClusterNode, ROLES, type Role } from './cluster/cluster-node.js';
import { streamConfig } from './config/stream-sources.js';
import { loadVenueConfig, VenueConfigError, type StreamSpec } from './config/venue-config.js';
import { isNetworkStream } from './sources/media-file-source.js';

const repo = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));
const fail = (message: string): never => {
  console.error(`tutti: cannot start: ${message}`);
  process.exit(1);
};
/** A numeric setting from the environment, else the file's, else the default. */
function setting(name: string, fromFile: number | undefined, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fromFile ?? fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) fail(`${name} must be a number ≥ 0, not "${text}"`);
  return value;
}
const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const { values: args } = (() => {
  try {
    return parseArgs({ options: { config: { type: 'string' }, role: { type: 'string' } } });
  } catch (error) {
    return fail(`${(error as Error).message} (usage: npm start -- [--config FILE] [--role ROLES])`);
  }
})();
const venue = (() => {
  if (!args.config) return undefined;
  try {
    return loadVenueConfig(args.config);
  } catch (error) {
    if (error instanceof VenueConfigError) return fail(`\n${error.message}`);
    throw error;
  }
})();
const fromFile = venue?.monitor ?? {};
const token = process.env.TUTTI_TOKEN ?? randomBytes(12).toString('hex');
const demo = repo('server/sources/demo/demo.mp4');

/** Streams from the environment, beside (or, with no file, before) the demo. */
const fromEnvironment: StreamSpec[] = [
  ...(process.env.TUTTI_INPUT
    ? [
        {
          id: 'input',
          source: isNetworkStream(process.env.TUTTI_INPUT)
            ? { url: process.env.TUTTI_INPUT }
            : { file: process.env.TUTTI_INPUT },
        },
      ]
    : []),
  ...(process.env.TUTTI_MIC
    ? [
        {
          id: 'microphone',
          source: {
            microphone:
              process.env.TUTTI_MIC === 'default'
                ? ('default' as const)
                : Number(process.env.TUTTI_MIC),
          },
        },
      ]
    : []),
  ...(process.env.TUTTI_CAMERA
    ? [
        {
          id: 'camera',
          source: {
            camera: process.env.TUTTI_CAMERA,
            ...(process.env.TUTTI_CAMERA_AUDIO ? { audio: process.env.TUTTI_CAMERA_AUDIO } : {}),
          },
        },
      ]
    : []),
];
const demoStream: StreamSpec = {
  id: 'demo',
  source: { demo: true },
  questions: [
    'How many instruments are sounding in the video?',
    'Is there a flute sound?',
    'Is the clarinet louder than the piano?',
    'What is the first instrument that comes in?',
  ],
};
// A venue file's streams replace the demo; environment streams are added either way.
const specs = [...fromEnvironment, ...(venue ? venue.streams : [demoStream])];
const everyStream = [...list(process.env.TUTTI_OSC).map((url) => ({ url })), ...(venue?.osc ?? [])];

// The paper profile once its files have been exported into models/paper, else the shipped tiny.
const profile =
  process.env.TUTTI_PROFILE ??
  fromFile.profile ??
  (existsSync(repo('models/paper/manifest.json')) ? repo('models/paper') : repo('models/tiny'));

/** What a single monitor and a cluster node answer the same way: model, window, hop, streams. */
const answering = () => ({
  profile,
  ...((process.env.TUTTI_VARIANT ?? fromFile.variant)
    ? { variant: process.env.TUTTI_VARIANT ?? fromFile.variant }
    : {}),
  windowSeconds: setting('TUTTI_WINDOW', fromFile.windowSeconds, 10),
  hopSeconds: setting('TUTTI_HOP', fromFile.hopSeconds, 1),
  streams: specs.map((spec) => streamConfig(spec, demo)),
});

if (args.role !== undefined) startClusterNode(args.role);
else startMonitor();

/** This process as a node of a cluster, running `roleList` (comma-separated). */
function startClusterNode(roleList: string) {
  const roles = list(roleList);
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (roles.length === 0 || unknown.length > 0)
    fail(`--role takes ${ROLES.join(', ')} (comma-separated), not "${roleList}"`);
  const bus = (() => {
    try {
      return clusterConfigFromEnv();
    } catch (error) {
      return fail((error as Error).message);
    }
  })();
  const name = process.env.TUTTI_NODE_NAME ?? `${roles.join('+')}-${process.pid}`;
  ClusterNode.start({
    name,
    roles: roles as Role[],
    bus,
    ...answering(),
    // Given no venue file and no stream in the environment, an ingest node takes up the streams
    // it ran before (stream directory), else the demo.
    streams: [...fromEnvironment, ...(venue ? venue.streams : [])],
    defaultStreams: [demoStream],
    streamConfig: (spec) => streamConfig(spec, demo),
    inferenceWorkers: inferenceWorkers(),
    segmentsInFlight: segmentsInFlight(),
    gateway: {
      ...listening(),
      maxCaptures: setting('TUTTI_MAX_CAPTURES', fromFile.maxCaptures, 4),
      ...(process.env.TUTTI_WEBHOOK_SECRET
        ? { webhookSecret: process.env.TUTTI_WEBHOOK_SECRET }
        : {}),
    },
    log: (line) => console.log(`tutti: ${line}`),
  }).then(
    (node) => {
      console.log(`tutti: ${name} running ${roles.join(', ')} on ${bus.servers.join(', ')}`);
      if (node.gatewayUrl)
        console.log(`tutti: dashboard: ${node.gatewayUrl}/?token=${encodeURIComponent(token)}`);
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.once(
          signal,
          () =>
            void node.stop().then(
              () => process.exit(0),
              () => process.exit(1),
            ),
        );
    },
    (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
  );
}

/** Where the HTTP API listens and who may use it: the single monitor's and a gateway's alike. */
function listening() {
  return {
    host: process.env.TUTTI_HOST ?? fromFile.host ?? '127.0.0.1',
    port: setting('TUTTI_PORT', fromFile.port, 8080),
    token,
    ...(process.env.TUTTI_READ_TOKEN ? { readToken: process.env.TUTTI_READ_TOKEN } : {}),
    allowedHosts: process.env.TUTTI_ALLOWED_HOSTS
      ? list(process.env.TUTTI_ALLOWED_HOSTS)
      : (fromFile.allowedHosts ?? []),
  };
}

/** A setting that counts something (default 1): a whole number ≥ 1, else a clear start-up error. */
function countSetting(name: string): number {
  const count = setting(name, undefined, 1);
  if (!Number.isInteger(count) || count < 1)
    fail(`${name} must be a whole number ≥ 1, not "${process.env[name]}"`);
  return count;
}

/** TUTTI_INFERENCE_WORKERS: worker threads sharing the streams (default 1; a GPU wants more). */
function inferenceWorkers(): number {
  return countSetting('TUTTI_INFERENCE_WORKERS');
}

/** TUTTI_SEGMENTS_IN_FLIGHT: segments a cluster's inference node handles at once (default: one per worker). */
function segmentsInFlight(): number | undefined {
  if (process.env.TUTTI_SEGMENTS_IN_FLIGHT === undefined) return undefined;
  return countSetting('TUTTI_SEGMENTS_IN_FLIGHT');
}

function startMonitor() {
  const monitor = new Monitor({
    ...answering(),
    ...listening(),
    inferenceWorkers: inferenceWorkers(),
    limits: {
      maxCaptures: setting('TUTTI_MAX_CAPTURES', fromFile.maxCaptures, 4),
      stallSeconds: setting('TUTTI_STALL_SECONDS', fromFile.stallSeconds, 10),
    },
    database: process.env.TUTTI_DB ?? fromFile.database ?? repo('data/tutti.sqlite'),
    retentionDays: setting('TUTTI_RETENTION_DAYS', fromFile.retentionDays, 7),
    ...(process.env.TUTTI_WEBHOOK_SECRET
      ? { webhookSecret: process.env.TUTTI_WEBHOOK_SECRET }
      : {}),
    osc: [
      ...everyStream,
      ...specs.flatMap((spec) =>
        (spec.osc ?? []).map((target) => ({ ...target, streams: [spec.id] })),
      ),
    ],
  });

  monitor
    .start()
    .then(() => {
      console.log(
        `tutti: listening on ${monitor.url} (WebSocket at /ws, question space at /api/question-space)`,
      );
      // The token goes into the dashboard's storage and leaves its address bar at once.
      console.log(`tutti: dashboard: ${monitor.url}/?token=${encodeURIComponent(token)}`);
    })
    .catch((error: unknown) => {
      console.error(
        `tutti: cannot start: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exit(1);
    });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`tutti: ${signal}, shutting down`);
      monitor.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
