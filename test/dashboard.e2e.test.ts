/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real
 * monitor: live answers appear for the demo stream, a question typed into the page becomes a
 * standing question with its own answers, and a screenshot is kept as a test artefact.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Monitor, type StreamConfig } from '../server/monitor.js';
import { mediaFileSource } from '../server/sources/media-file-source.js';
import { DEMO, demoExcerpt } from './support/demo-excerpt.js';
import { ensureDashboardBuilt, repoPath } from './support/run-cli.js';

const TOKEN = 'dashboard-token';

/** Debian's Chromium, headless, kept off the (closed) network. */
function launchChromium(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extra,
    ],
  });
}

/** The monitor on the shipped tiny profile, quiet, answering every second over 10 s windows. */
function tinyMonitor(streams: StreamConfig[], database: string, port = 0): Monitor {
  return new Monitor({
    profile: repoPath('models', 'tiny'),
    host: '127.0.0.1',
    port,
    token: TOKEN,
    windowSeconds: 10,
    hopSeconds: 1,
    database,
    log: () => undefined,
    streams,
  });
}

const SPECTROGRAM_CAPTION = /^last \d+ s · level -?\d+ dBFS$/;

/** The audio level (dBFS) under the page's spectrogram; NaN if it shows none. */
async function spectrogramLevel(page: Page): Promise<number> {
  const caption = await page.getByText(SPECTROGRAM_CAPTION).textContent();
  return Number(/level (-?\d+)/.exec(caption ?? '')?.[1]);
}

describe('dashboard in Chromium', () => {
  let monitor: Monitor;
  let browser: Browser;

  beforeAll(async () => {
    await ensureDashboardBuilt();
    monitor = tinyMonitor(
      [
        {
          id: 'demo',
          source: () => mediaFileSource(DEMO, { realtime: true, loop: true }),
          questions: ['How many instruments are sounding in the video?'],
        },
      ],
      path.join(mkdtempSync(path.join(tmpdir(), 'tutti-dashboard-')), 'events.sqlite'),
    );
    await monitor.start();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await monitor?.stop();
  });

  it('shows live answers with their evidence, and takes a new standing question', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${monitor.url}/?token=${TOKEN}`);
    // The token leaves the address bar at once, kept in the page's storage.
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    expect(await page.evaluate(() => localStorage.getItem('tutti-token'))).toBe(TOKEN);
    // Without it, a dashboard shows nothing but why.
    const stranger = await browser.newPage();
    await stranger.goto(`${monitor.url}/`);
    await expect
      .poll(async () => stranger.locator('body').textContent(), { timeout: 10_000 })
      .toContain('reading needs the access token');
    await stranger.close();
    const first = page.getByRole('article', {
      name: 'How many instruments are sounding in the video?',
    });
    await expect
      .poll(async () => first.getByTestId('answer').textContent(), { timeout: 20_000 })
      .toMatch(/(zero|one|two|three|four|five)\s+\d+ %/);

    // Health: the level heard, the rate segments come at, the latest answer's latency.
    await expect
      .poll(async () => (await page.locator('.health').textContent())?.replace(/\s+/g, ' '), {
        timeout: 10_000,
      })
      .toMatch(/level -?\d+ dBFS · [\d.]+ fps · speed [\d.]+× · analysed \d+ % · latency \d+ ms/);
    // The live picture (with the answer's spatial attention over it) and the spectrogram.
    const picture = page.getByAltText('Live picture of stream demo');
    await expect
      .poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth), {
        timeout: 10_000,
      })
      .toBe(640);
    await expect
      .poll(async () => page.getByText(SPECTROGRAM_CAPTION).count(), {
        timeout: 10_000,
      })
      .toBe(1);

    await page.getByLabel('Ask a standing question').fill('Is the clarinet louder than the piano?');
    await page.keyboard.press('Enter');
    const added = page.getByRole('article', { name: 'Is the clarinet louder than the piano?' });
    await expect
      .poll(async () => added.getByTestId('answer').textContent(), { timeout: 20_000 })
      .toMatch(/(yes|no)\s+\d+ %/);

    await page
      .getByLabel('Ask a standing question')
      .fill('Is the clarinet quieter than the piano?');
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => page.getByRole('alert').textContent(), { timeout: 10_000 })
      .toMatch(/unknown question.*nearest templates/s);

    // Keyboard: every control has a name, and Tab reaches the question builder's button.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, select, input')]
        .filter(
          (e) =>
            !(e as HTMLInputElement).labels?.length &&
            !e.getAttribute('aria-label') &&
            !e.textContent?.trim(),
        )
        .map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent === 'Ask this');
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(async () => page.getByRole('article').count(), { timeout: 10_000 }).toBe(3);
    // The refused question's error went with the next request.
    expect(await page.getByRole('alert').count()).toBe(0);

    // The screenshot shows the demo while it plays (it opens with 8 s of silence): the spectrogram
    // holds music and every card has its answer.
    await expect.poll(() => spectrogramLevel(page), { timeout: 45_000 }).toBeGreaterThan(-40);
    await expect.poll(async () => page.getByTestId('answer').count(), { timeout: 10_000 }).toBe(3);
    await page.waitForTimeout(3000); // a few seconds of music scrolled into the spectrogram
    mkdirSync(repoPath('test-results'), { recursive: true });
    await page.screenshot({ path: repoPath('test-results', 'dashboard.png'), fullPage: true });
  }, 120_000);

  it("streams the browser's camera and microphone (Chromium's fake devices) and answers it", async () => {
    // The fake camera and microphone play 8 s of the demo: a y4m picture and a wav sound.
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-capture-'));
    const camera = ['-vf', 'scale=320:180,fps=10', '-pix_fmt', 'yuv420p'];
    await demoExcerpt(14, 8, camera, path.join(dir, 'camera.y4m'));
    await demoExcerpt(14, 8, ['-ac', '1', '-ar', '44100'], path.join(dir, 'microphone.wav'));
    const capturing = await launchChromium([
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${path.join(dir, 'camera.y4m')}`,
      `--use-file-for-fake-audio-capture=${path.join(dir, 'microphone.wav')}`,
    ]);
    try {
      const page = await capturing.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${monitor.url}/?token=${TOKEN}`);
      await page.getByRole('button', { name: 'Use my camera and microphone' }).click();
      await expect
        .poll(
          async () => (await page.locator('select').first().inputValue()).startsWith('browser-'),
          { timeout: 10_000 },
        )
        .toBe(true);
      await page
        .getByLabel('Ask a standing question')
        .fill('How many instruments are sounding in the video?');
      await page.keyboard.press('Enter');
      const card = page.getByRole('article', {
        name: 'How many instruments are sounding in the video?',
      });
      await expect
        .poll(async () => card.getByTestId('answer').textContent(), { timeout: 30_000 })
        .toMatch(/(zero|one|two|three|four|five)\s+\d+ %/);
      // The captured sound reached the monitor: its spectrogram shows a level above silence.
      expect(await spectrogramLevel(page)).toBeGreaterThan(-60);
      await page.screenshot({
        path: repoPath('test-results', 'dashboard-capture.png'),
        fullPage: true,
      });
    } catch (error) {
      await capturing
        .contexts()[0]
        ?.pages()[0]
        ?.screenshot({
          path: repoPath('test-results', 'dashboard-capture-failed.png'),
          fullPage: true,
        });
      throw error;
    } finally {
      await capturing.close();
    }
  }, 90_000);

  it('analyses a local recording in the browser with ffmpeg.wasm served by the app itself', async () => {
    // 16 s of the demo where its FluidSynth piano and clarinet play, as an MP4 file on disk.
    const recording = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-recording-')), 'take 3.mp4');
    await demoExcerpt(9, 16, ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'], recording);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const watcher = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    try {
      await page.goto(`${monitor.url}/?token=${TOKEN}`);
      await watcher.goto(`${monitor.url}/?token=${TOKEN}`);
      await page.getByLabel('Playback speed').selectOption('2');
      await page.getByLabel('Analyse a recording').setInputFiles(recording);
      await expect
        .poll(async () => page.locator('header select').first().inputValue(), { timeout: 60_000 })
        .toMatch(/^file-take-3-\w{4}$/);
      // Another dashboard, open already, is told of the new stream and can pick it.
      const stream = await page.locator('header select').first().inputValue();
      await expect
        .poll(async () => watcher.locator('header select option').allTextContents(), {
          timeout: 10_000,
        })
        .toContain(stream);
      await page.getByTestId('template').selectOption('audio-object-heard');
      await page.getByLabel('Object 1').selectOption('clarinet');
      await page.getByRole('button', { name: 'Ask this' }).click();
      const card = page.getByRole('article', { name: 'Is there a clarinet sound?' });
      await expect
        .poll(async () => card.getByTestId('answer').textContent(), { timeout: 30_000 })
        .toMatch(/(yes|no)\s+\d+ %/);
      // Its first answer is its first change, listed on the card.
      await expect
        .poll(async () => card.getByRole('list', { name: 'answer changes' }).textContent(), {
          timeout: 10_000,
        })
        .toMatch(/\d+ s\s*—\s*→\s*(yes|no)/);
      // It was heard: the spectrogram's level is well above silence.
      expect(await spectrogramLevel(page)).toBeGreaterThan(-40);
      // The recording plays to its end at 2×, and the stream says so.
      await expect
        .poll(async () => page.locator('.health').textContent(), { timeout: 30_000 })
        .toMatch(/stopped.*source ended/s);
      const status = await page.locator('.health').textContent();
      expect(Number(/(\d+) segments/.exec(status ?? '')?.[1])).toBeGreaterThanOrEqual(14);
      // ffmpeg.wasm (its worker, core and 32 MB wasm) came from the monitor, nothing from elsewhere.
      expect(requested.some((url) => /ffmpeg-core-[\w-]+\.wasm$/.test(url))).toBe(true);
      for (const url of requested)
        expect(url.startsWith(monitor.url) || /^(blob|data):/.test(url)).toBe(true);
      await page.screenshot({
        path: repoPath('test-results', 'dashboard-recording.png'),
        fullPage: true,
      });
    } finally {
      await watcher.close();
      await page.close();
    }
  }, 120_000);

  it('analyses a sound-only recording (a black picture is added) and refuses a file with no sound', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-recording-'));
    const sound = path.join(dir, 'phone memo.wav');
    await demoExcerpt(12, 6, ['-vn', '-ac', '2', '-ar', '44100'], sound);
    const notMedia = path.join(dir, 'notes.mp4');
    writeFileSync(notMedia, 'bar 12: the clarinet comes in late\n');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${monitor.url}/?token=${TOKEN}`);
      await page.getByLabel('Analyse a recording').setInputFiles(notMedia);
      await expect
        .poll(async () => page.getByRole('alert').textContent(), { timeout: 60_000 })
        .toMatch(/cannot analyse notes\.mp4: notes\.mp4 has no sound ffmpeg can decode/);

      await page.getByLabel('Playback speed').selectOption('4');
      await page.getByLabel('Analyse a recording').setInputFiles(sound);
      await expect
        .poll(async () => page.locator('header select').first().inputValue(), { timeout: 60_000 })
        .toMatch(/^file-phone-memo-\w{4}$/);
      await expect
        .poll(async () => page.locator('.health').textContent(), { timeout: 30_000 })
        .toMatch(/stopped.*source ended/s);
      const status = await page.locator('.health').textContent();
      expect(Number(/(\d+) segments/.exec(status ?? '')?.[1])).toBeGreaterThanOrEqual(5);
      // The picture is the black one added for it.
      const stream = await page.locator('header select').first().inputValue();
      const frame = await fetch(`${monitor.url}/api/streams/${stream}/frame.jpg`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(frame.status).toBe(200);
      const picture = await loadImage(Buffer.from(await frame.arrayBuffer()));
      const canvas = createCanvas(picture.width, picture.height);
      canvas.getContext('2d').drawImage(picture, 0, 0);
      const pixels = canvas.getContext('2d').getImageData(0, 0, picture.width, picture.height).data;
      expect(pixels.filter((_, i) => i % 4 !== 3).reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(
        20,
      );
    } finally {
      await page.close();
    }
  }, 120_000);
});

describe('dashboard over a scene whose ground truth is known, across a monitor restart', () => {
  let browser: Browser;
  let monitor: Monitor | undefined;
  const database = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-scene-')), 'events.sqlite');
  // The demo played once from its start: silence, then piano (8 s), clarinet (11 s), flute (22 s).
  const sceneMonitor = (port: number) =>
    tinyMonitor(
      [{ id: 'scene', source: () => mediaFileSource(DEMO, { realtime: true }) }],
      database,
      port,
    );
  const truth = JSON.parse(
    readFileSync(repoPath('server/sources/demo/demo.truth.json'), 'utf8'),
  ) as { performers: Array<{ instrument: string; active: boolean[] }> };
  /** How many kinds of instrument sound somewhere in the window of seconds [start, end). */
  const typesSounding = (start: number, end: number) =>
    new Set(
      truth.performers
        .filter((p) => p.active.slice(start, end).some(Boolean))
        .map((p) => p.instrument),
    ).size;
  const COUNTS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six'];

  beforeAll(async () => {
    await ensureDashboardBuilt();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await monitor?.stop();
  });

  it('answers change when the instruments come in, and the dashboard reconnects to a restarted monitor', async () => {
    monitor = sceneMonitor(0);
    await monitor.start();
    const port = Number(new URL(monitor.url).port);
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    try {
      await page.goto(`${monitor.url}/?token=${TOKEN}`);
      await page.getByTestId('template').selectOption('av-sounding-type-count');
      await page.getByRole('button', { name: 'Ask this' }).click();
      // The polls below ask often: a missing element fails one try in 5 s instead of holding it
      // for Playwright's 30 s (tries past a poll's timeout added up past the test's budget).
      page.setDefaultTimeout(5_000);
      const sentence = 'How many types of musical instruments sound in the video?';
      const card = page.getByRole('article', { name: sentence });
      const changes = card.getByRole('list', { name: 'answer changes' }).getByRole('listitem');
      // The first answer, then a change once the instruments have come in.
      await expect
        .poll(async () => changes.count(), { timeout: 40_000, message: 'answer changes listed' })
        .toBeGreaterThanOrEqual(2);
      const listed = (await changes.allTextContents()).map((text) => {
        const [, end, to] = /^(\d+) s.*→\s*(\w+)$/s.exec(text.trim())!;
        return { end: Number(end), to: to! };
      });
      // While the scene was silent (truth: no instrument for 8 s) the answer stood still; it
      // changed only once instruments came in, and it went up with the truth's count.
      const [first, ...later] = listed;
      for (const change of later) expect(change.end).toBeGreaterThan(8);
      const last = later.at(-1)!;
      expect(typesSounding(Math.max(0, last.end - 10), last.end)).toBeGreaterThan(
        typesSounding(Math.max(0, first!.end - 10), first!.end),
      );
      expect(COUNTS.indexOf(last.to)).toBeGreaterThan(COUNTS.indexOf(first!.to));

      // The monitor restarts: the page says so, reconnects by itself, and the question (kept
      // in SQLite) is answered again from the restarted scene, whose clock starts at 0. The old
      // scene runs to 15 s first, more than a slow restart plus the page's reconnect backoff
      // (8 s at most) can bring the new one to.
      const windowEnd = async () => {
        const caption = await card.getByText(/^when \(segments/).textContent();
        return Number(/–(\d+) s/.exec(caption ?? '')?.[1]);
      };
      await expect
        .poll(windowEnd, { timeout: 20_000, message: 'the first scene reaching 15 s' })
        .toBeGreaterThanOrEqual(15);
      const endBeforeRestart = await windowEnd();
      await monitor.stop();
      monitor = undefined;
      await expect
        .poll(async () => page.locator('.connection').textContent(), {
          timeout: 10_000,
          message: 'the page seeing the monitor gone',
        })
        .toBe('reconnecting…');
      monitor = sceneMonitor(port);
      await monitor.start();
      await expect
        .poll(async () => page.locator('.connection').textContent(), {
          timeout: 20_000,
          message: 'the page reconnecting',
        })
        .toBe('live');
      await expect
        .poll(windowEnd, { timeout: 20_000, message: 'an answer from the restarted scene' })
        .toBeLessThan(endBeforeRestart);
      // A tablet held upright: nothing sticks out sideways.
      await page.setViewportSize({ width: 768, height: 1024 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        768,
      );
      await page.screenshot({
        path: repoPath('test-results', 'dashboard-tablet.png'),
        fullPage: true,
        timeout: 30_000,
      });
    } finally {
      await page.close();
    }
    // Two monitor starts and about 30 s of the scene in real time: under a loaded CI machine the
    // bounded steps above may add up past two minutes.
  }, 180_000);
});
