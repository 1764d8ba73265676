/**
 * Network streams through native ffmpeg: RTSP from a real RTSP server (rtsp-streaming-server,
 * fed by an ffmpeg publisher the way an IP camera or encoder pushes) and HTTP from a plain file
 * server. The media is 12 s of the demo clip where its FluidSynth-rendered piano and clarinet play.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, take, toArray } from 'rxjs';
import { RtspServer } from 'rtsp-streaming-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSegments } from '../server/segments/to-segments.js';
import { mediaFileSource, type SourceEvent } from '../server/sources/media-file-source.js';
import { rms } from './support/pulse-null-sink.js';
import { demoExcerpt } from './support/demo-excerpt.js';
import { freePort } from './support/free-port.js';

function expectLiveMedia(events: SourceEvent[]): void {
  const audio = events.flatMap((e) => (e.kind === 'audio' ? [e] : []));
  const frames = events.flatMap((e) => (e.kind === 'frame' ? [e] : []));
  expect(audio.length).toBeGreaterThan(100);
  audio.forEach((chunk, i) => expect(chunk.time).toBeCloseTo((i * 320) / 16_000, 6));
  expect(rms(audio)).toBeGreaterThan(0.01);
  expect(frames.length).toBeGreaterThanOrEqual(2);
  const { frame } = frames.at(-1)!;
  expect([frame.width, frame.height]).toEqual([640, 360]);
  // The demo's stage is drawn, not black.
  expect(frame.data.reduce((sum, v) => sum + v, 0) / frame.data.length).toBeGreaterThan(20);
}

describe('network stream sources', () => {
  let server: RtspServer;
  let publisher: ChildProcess;
  let http: Server;
  let rtspUrl = '';
  let httpUrl = '';

  beforeAll(async () => {
    const music = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-network-')), 'music.mp4');
    // Index first (+faststart), as MP4s meant for the web are: this file server does no ranges.
    const web = [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-c:a',
      'aac',
      '-movflags',
      '+faststart',
    ];
    await demoExcerpt(9, 12, web, music);
    const [publishPort, clientPort] = [await freePort(), await freePort()];
    // The server's RTP ports lie below 5000: ffmpeg's RTSP client picks its own UDP ports in
    // 5000–65000 (min_port/max_port) and Linux its ephemeral ones above 32768, so neither can take
    // a port the server is about to bind. (rtsp-streaming-server answers 500 on a clash instead of
    // trying the next port: it tests `errno === 'EADDRINUSE'`, which Node sets as `code`.)
    server = new RtspServer({
      serverPort: publishPort,
      clientPort,
      rtpPortStart: 3000 + (process.pid % 19) * 100,
      rtpPortCount: 100,
    });
    await server.start();
    // A keyframe every second so a reader joining mid-stream gets pictures at once.
    publisher = spawn('ffmpeg', [
      ...['-v', 'error', '-re', '-stream_loop', '-1', '-i', music],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15'],
      ...['-c:a', 'aac', '-f', 'rtsp', `rtsp://127.0.0.1:${publishPort}/stage`],
    ]);
    rtspUrl = `rtsp://127.0.0.1:${clientPort}/stage`;

    http = createServer((request, response) => {
      if (request.url === '/stalls.mp4') {
        // The first 300 KB, then nothing more, the connection left open: a stalled stream.
        response.writeHead(200, { 'content-type': 'video/mp4' });
        createReadStream(music, { end: 300_000 }).pipe(response, { end: false });
        return;
      }
      if (request.url !== '/demo.mp4') return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'video/mp4' });
      createReadStream(music).pipe(response);
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    // The publisher has announced its mount (a slow machine takes longer than a fixed wait).
    while (Object.keys(server.Mounts.mounts).length === 0)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 500)); // and sends its first packets
  }, 30_000);

  afterAll(async () => {
    publisher?.kill('SIGKILL');
    http?.closeAllConnections();
    http?.close();
    // rtsp-streaming-server has no stop(); its two listening servers are closed directly.
    for (const part of [server?.PublishServer, server?.ClientServer])
      (part as unknown as { server?: { close(): void } } | undefined)?.server?.close();
  });

  it('reads an RTSP stream live: sound and letterboxed pictures on one clock', async () => {
    const events = await firstValueFrom(mediaFileSource(rtspUrl).pipe(take(200), toArray()));
    expectLiveMedia(events);
    const segments = await firstValueFrom(
      mediaFileSource(rtspUrl).pipe(toSegments(), take(2), toArray()),
    );
    expect(segments.map((s) => s.index)).toEqual([0, 1]);
    expect(segments[1]!.samples).toHaveLength(16_000);
  }, 40_000);

  it('reads an HTTP stream', async () => {
    const events = await firstValueFrom(
      mediaFileSource(`${httpUrl}/demo.mp4`).pipe(take(200), toArray()),
    );
    expectLiveMedia(events);
  }, 30_000);

  it('says which stream it cannot read, and why', async () => {
    await expect(firstValueFrom(mediaFileSource(`${httpUrl}/missing.mp4`))).rejects.toThrow(
      /ffmpeg stopped reading http:\/\/127\.0\.0\.1:\d+\/missing\.mp4.*404/s,
    );
    const absent = rtspUrl.replace('/stage', '/nobody');
    await expect(firstValueFrom(mediaFileSource(absent))).rejects.toThrow(
      `ffmpeg stopped reading ${absent}`,
    );
  }, 30_000);

  it('fails a live stream that stalls for 10 s (so the monitor retries it) instead of hanging', async () => {
    const started = performance.now();
    const events: SourceEvent[] = [];
    await expect(
      new Promise((resolve, reject) =>
        mediaFileSource(`${httpUrl}/stalls.mp4`, { live: true }).subscribe({
          next: (event) => events.push(event),
          error: reject,
          complete: () => resolve('completed'),
        }),
      ),
    ).rejects.toThrow(`the live stream ${httpUrl}/stalls.mp4 ended or went silent`);
    const seconds = (performance.now() - started) / 1000;
    expect(events.length).toBeGreaterThan(0); // it played what came
    expect(seconds).toBeGreaterThan(9);
    expect(seconds).toBeLessThan(25);
  }, 40_000);
});
