/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real
 * monitor: live answers appear for the demo stream, a question typed into the page becomes a
 * standing question with its own answers, and a screenshot is kept as a test artefact.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Monitor } from '../server/monitor.js';
import { mediaFileSource } from '../server/sources/media-file-source.js';
import { repoPath, runNpm } from './support/run-cli.js';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

describe('dashboard in Chromium', () => {
  let monitor: Monitor;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(repoPath('client', 'dist', 'index.html'))) await runNpm(['run', 'build']);
    monitor = new Monitor({
      profile: repoPath('models', 'tiny'),
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      windowSeconds: 10,
      hopSeconds: 1,
      database: path.join(mkdtempSync(path.join(tmpdir(), 'tutti-dashboard-')), 'events.sqlite'),
      log: () => undefined,
      streams: [
        {
          id: 'demo',
          source: () =>
            mediaFileSource(repoPath('server/sources/demo/demo.mp4'), {
              realtime: true,
              loop: true,
            }),
          questions: ['How many instruments are sounding in the video?'],
        },
      ],
    });
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
      .toMatch(/level -?\d+ dBFS · [\d.]+ segments\/s · latency \d+ ms/);
    // The live picture (with the answer's spatial attention over it) and the spectrogram.
    const picture = page.getByAltText('Live picture of stream demo');
    await expect
      .poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth), {
        timeout: 10_000,
      })
      .toBe(640);
    await expect
      .poll(async () => page.getByText(/^last \d+ s · level -?\d+ dBFS$/).count(), {
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

    mkdirSync(repoPath('test-results'), { recursive: true });
    await page.screenshot({ path: repoPath('test-results', 'dashboard.png'), fullPage: true });
  }, 60_000);

  it("streams the browser's camera and microphone (Chromium's fake devices) and answers it", async () => {
    // The fake camera and microphone play 8 s of the demo: a y4m picture and a wav sound.
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-capture-'));
    const demo = repoPath('server/sources/demo/demo.mp4');
    await run('ffmpeg', [
      '-v',
      'error',
      '-ss',
      '14',
      '-t',
      '8',
      '-i',
      demo,
      '-vf',
      'scale=320:180,fps=10',
      '-pix_fmt',
      'yuv420p',
      path.join(dir, 'camera.y4m'),
    ]);
    await run('ffmpeg', [
      '-v',
      'error',
      '-ss',
      '14',
      '-t',
      '8',
      '-i',
      demo,
      '-ac',
      '1',
      '-ar',
      '44100',
      path.join(dir, 'microphone.wav'),
    ]);
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
      const level = await page.getByText(/^last \d+ s · level -?\d+ dBFS$/).textContent();
      expect(Number(/level (-?\d+)/.exec(level ?? '')?.[1])).toBeGreaterThan(-60);
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
});
