import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { connect, createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../server/hub/http-server.js';
import { errorResponseSchema, parsedQuestionSchema } from '../shared/protocol/questions.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { ensureDashboardBuilt } from './support/run-cli.js';

describe('HTTP API', () => {
  const server = createHttpServer();
  let base = '';
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: string) =>
    fetch(`${base}/api/questions/parse`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });

  it('serves the question space', async () => {
    const response = await fetch(`${base}/api/question-space`);
    const space = (await response.json()) as { templates: unknown[]; answers: string[] };
    expect(space.templates).toHaveLength(33);
    expect(space.answers).toHaveLength(42);
  });

  it('parses a standing question', async () => {
    const response = await post(
      JSON.stringify({ question: 'Is the flute louder than the clarinet?' }),
    );
    expect(response.status).toBe(200);
    const parsed = parsedQuestionSchema.parse(await response.json());
    expect(parsed).toMatchObject({ templateId: 'audio-louder', values: ['flute', 'clarinet'] });
  });

  it('answers bad input with a clear error', async () => {
    const unknown = await post(
      JSON.stringify({ question: 'Is the flute quieter than the clarinet?' }),
    );
    expect(unknown.status).toBe(422);
    const body = errorResponseSchema.parse(await unknown.json());
    expect(body.nearest?.[0]?.templateId).toBe('audio-louder');

    const notJson = await post('{');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'body is not JSON' });

    const wrongShape = await post(JSON.stringify({ question: 42 }));
    expect(wrongShape.status).toBe(400);
    expect(errorResponseSchema.parse(await wrongShape.json()).error).toMatch(/question/);

    const tooLarge = await post(JSON.stringify({ question: 'x'.repeat(20_000) }));
    expect(tooLarge.status).toBe(413);

    expect((await fetch(`${base}/api/nowhere`)).status).toBe(404);
    // A path that climbs out of the dashboard's folder never reaches the file system.
    const escape = await fetch(`${base}/..%2F..%2F..%2F..%2Fetc%2Fpasswd`);
    expect(escape.status).toBe(404);
    expect(await escape.text()).not.toContain('root:');
    // Malformed percent-encoding is the client's error, not the server's.
    const malformed = await fetch(`${base}/%E0%A4%A`);
    expect(malformed.status).toBe(400);
    expect(errorResponseSchema.parse(await malformed.json()).error).toMatch(/percent-encoding/);
  });
});

describe('the dashboard, as the monitor serves it', () => {
  it('streams the built files, ffmpeg.wasm included, caching the hashed assets for good', async () => {
    await ensureDashboardBuilt();
    const server = createHttpServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const page = await fetch(`${base}/`);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const html = await page.text();
      expect(html).toContain('<title>Tutti');
      const head = await fetch(`${base}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(html));
      const wasm = readdirSync(path.join(REPO_ROOT, 'client', 'dist', 'assets')).find((f) =>
        /^ffmpeg-core-.*\.wasm$/.test(f),
      );
      expect(wasm).toBeDefined();
      const core = await fetch(`${base}/assets/${wasm}`);
      expect(core.headers.get('content-type')).toBe('application/wasm');
      expect(core.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const bytes = new Uint8Array(await core.arrayBuffer());
      expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
      // Unknown paths get the page (the dashboard routes itself).
      expect(await (await fetch(`${base}/streams/demo`)).text()).toBe(html);
    } finally {
      server.close();
    }
  }, 120_000);

  it('lets a browser hang up halfway through ffmpeg.wasm without an error escaping, and keeps serving', async () => {
    await ensureDashboardBuilt();
    const escaped: unknown[] = [];
    const keep = (reason: unknown) => escaped.push(reason);
    process.on('unhandledRejection', keep);
    const server = createHttpServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const wasm = readdirSync(path.join(REPO_ROOT, 'client', 'dist', 'assets')).find((f) =>
        /^ffmpeg-core-.*\.wasm$/.test(f),
      )!;
      for (let i = 0; i < 3; i++) {
        // A page closed while its 32 MB core is downloading: the socket goes after the first bytes.
        const socket = connect(port, '127.0.0.1');
        socket.write(`GET /assets/${wasm} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        await once(socket, 'data');
        socket.destroy();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Tutti');
      expect(escaped).toEqual([]);
    } finally {
      process.off('unhandledRejection', keep);
      server.close();
    }
  }, 120_000);
});

describe('npm start entry point', () => {
  /** `npm start` without its pre-step (setup and dashboard build, done by the suite already). */
  const npmStart = (port: number) =>
    spawn('npm', ['start', '--ignore-scripts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, TUTTI_PORT: String(port), TUTTI_DB: ':memory:' },
    });

  it('listens, and SIGTERM to npm reaches the monitor: it shuts down and frees its port', async () => {
    const child = npmStart(0);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => output.includes('listening on') && resolve());
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    child.kill('SIGTERM');
    await once(child, 'exit');
    // No orphan keeps answering on the port once npm has gone.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(fetch(`${url}/api/health`)).rejects.toThrow();
    expect(output).toContain('SIGTERM, shutting down');
  });

  it('says in one line which port is busy and how to choose another', async () => {
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as AddressInfo;
    const child = npmStart(port);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    squatter.close();
    expect(code).not.toBe(0);
    const ours = stderr.split('\n').filter((line) => line.startsWith('tutti:'));
    expect(ours).toEqual([
      `tutti: cannot start: port ${port} on 127.0.0.1 is in use; set TUTTI_PORT to a free port`,
    ]);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack
  });
});
