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
 * TUTTI_WINDOW (10 s), TUTTI_HOP (1 s), TUTTI_DB (data/tutti.sqlite: every answer and stream
 * event), TUTTI_RETENTION_DAYS (7: how long the log keeps them). Extra streams: TUTTI_INPUT (a
 * file or RTSP/HTTP URL that ffmpeg opens; stream "input"), TUTTI_MIC (a PortAudio input device
 * id, or "default"; stream "microphone") and TUTTI_CAMERA (a V4L2 camera such as /dev/video0, or
 * "format:device" for another ffmpeg input device, with the sound of TUTTI_CAMERA_AUDIO, default
 * "pulse:default"; stream "camera"). TUTTI_OSC: comma-separated OSC targets (udp://host:port,
 * tcp://host:port) that get every stream's answers and answer changes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Monitor } from './monitor.js';
import { isNetworkStream, mediaFileSource } from './sources/media-file-source.js';
import { microphoneSource } from './sources/microphone-source.js';
import { captureDeviceSource, parseCaptureInput } from './sources/capture-device-source.js';

const repo = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));
/** A numeric setting from the environment; a value that is not a number stops the start. */
function numberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`tutti: cannot start: ${name} must be a number ≥ 0, not "${text}"`);
    process.exit(1);
  }
  return value;
}

const token = process.env.TUTTI_TOKEN ?? randomBytes(12).toString('hex');

const monitor = new Monitor({
  // The paper profile once its files have been exported into models/paper, else the shipped tiny.
  profile:
    process.env.TUTTI_PROFILE ??
    (existsSync(repo('models/paper/manifest.json')) ? repo('models/paper') : repo('models/tiny')),
  host: process.env.TUTTI_HOST ?? '127.0.0.1',
  port: numberFromEnv('TUTTI_PORT', 8080),
  token,
  ...(process.env.TUTTI_READ_TOKEN ? { readToken: process.env.TUTTI_READ_TOKEN } : {}),
  ...(process.env.TUTTI_ALLOWED_HOSTS
    ? { allowedHosts: process.env.TUTTI_ALLOWED_HOSTS.split(',').map((h) => h.trim()) }
    : {}),
  limits: {
    maxCaptures: numberFromEnv('TUTTI_MAX_CAPTURES', 4),
    stallSeconds: numberFromEnv('TUTTI_STALL_SECONDS', 10),
  },
  windowSeconds: numberFromEnv('TUTTI_WINDOW', 10),
  hopSeconds: numberFromEnv('TUTTI_HOP', 1),
  database: process.env.TUTTI_DB ?? repo('data/tutti.sqlite'),
  retentionDays: numberFromEnv('TUTTI_RETENTION_DAYS', 7),
  osc: (process.env.TUTTI_OSC ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
    .map((url) => ({ url })),
  streams: [
    ...(process.env.TUTTI_INPUT
      ? [
          {
            id: 'input',
            source: () =>
              // A file is played at its own pace, as if live; a network stream is live already,
              // and when it drops it is retried.
              mediaFileSource(
                process.env.TUTTI_INPUT!,
                isNetworkStream(process.env.TUTTI_INPUT!) ? { live: true } : { realtime: true },
              ),
          },
        ]
      : []),
    ...(process.env.TUTTI_MIC
      ? [
          {
            id: 'microphone',
            source: () =>
              microphoneSource({
                deviceId: process.env.TUTTI_MIC === 'default' ? -1 : Number(process.env.TUTTI_MIC),
              }),
          },
        ]
      : []),
    ...(process.env.TUTTI_CAMERA
      ? [
          {
            id: 'camera',
            source: () =>
              captureDeviceSource({
                video: parseCaptureInput(process.env.TUTTI_CAMERA!, 'v4l2'),
                audio: parseCaptureInput(process.env.TUTTI_CAMERA_AUDIO ?? 'default', 'pulse'),
              }),
          },
        ]
      : []),
    {
      id: 'demo',
      source: () =>
        mediaFileSource(repo('server/sources/demo/demo.mp4'), { realtime: true, loop: true }),
      questions: [
        'How many instruments are sounding in the video?',
        'Is there a flute sound?',
        'Is the clarinet louder than the piano?',
        'What is the first instrument that comes in?',
      ],
    },
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
    console.error(`tutti: cannot start: ${error instanceof Error ? error.message : String(error)}`);
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
