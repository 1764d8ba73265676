/**
 * The venue configuration file: the shipped festival example loads; mistakes are refused with
 * the file, the path in it and what was expected; `npm start -- --config FILE` runs its streams
 * with its questions, the environment overriding its settings.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { filter, firstValueFrom, skip } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { loadVenueConfig, parseVenueConfig } from '../server/config/venue-config.js';
import { streamConfig } from '../server/config/stream-sources.js';
import { REPO_ROOT } from './support/musicavqa.js';

const errorOf = (text: string, file = 'venue.yaml') => {
  try {
    parseVenueConfig(text, file);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('venue configuration file', () => {
  it('loads the festival example: three stages, their questions and OSC targets', () => {
    const config = loadVenueConfig(path.join(REPO_ROOT, 'docs', 'festival.config.yaml'));
    expect(config.streams.map((s) => s.id)).toEqual(['main-stage', 'tent', 'acoustic-stage']);
    expect(config.streams[0]!.questions).toContain(
      'Is the violin on the left louder than the cello on the right?',
    );
    expect(config.streams[0]!.osc?.[0]).toMatchObject({ url: 'tcp://10.0.1.30:9000' });
    expect(config.osc).toEqual([{ url: 'udp://10.0.0.20:53000', send: 'changes' }]);
    expect(config.monitor?.port).toBe(8080);
    // Its rules name their question by position: the stream's second question is q2.
    const stage = streamConfig(config.streams[0]!, 'demo.mp4');
    expect(stage.rules?.map((r) => [r.name, r.questionId, r.condition.kind])).toEqual([
      ['violin missing while it is scheduled to play', 'q2', 'answer-stays'],
      ['main stage feed down', undefined, 'stream-not-live'],
    ]);
    expect(stage.questions?.[1]).toBe('Is there a violin sound?');
  });

  it('finds a file source beside the configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-venue-'));
    const file = path.join(dir, 'venue.json');
    writeFileSync(file, JSON.stringify({ streams: [{ id: 'a', source: { file: 'clip.mp4' } }] }));
    expect(loadVenueConfig(file).streams[0]!.source).toEqual({ file: path.join(dir, 'clip.mp4') });
  });

  it("turns a stream's channels round, or drops them, as its stereo setting says", async () => {
    // A clip whose sound is on the left only.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-venue-')), 'left.mkv');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'color=black:size=64x36:rate=2:duration=1'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=16000'],
      ...['-filter_complex', '[1:a]pan=stereo|c0=c0|c1=0*c0[a]', '-map', '0:v', '-map', '[a]'],
      ...['-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-shortest', file],
    ]);
    const chunk = async (stereo?: string) => {
      const setting = stereo ? `, stereo: ${stereo}` : '';
      const text = `streams: [{id: a, source: {file: ${JSON.stringify(file)}}${setting}}]`;
      const spec = parseVenueConfig(text, 'venue.yaml').streams[0]!;
      const audio = streamConfig(spec, 'demo.mp4')
        .source()
        .pipe(filter((event) => event.kind === 'audio'));
      return firstValueFrom(audio.pipe(skip(5)));
    };
    const energy = (x: Float32Array) => x.reduce((sum, v) => sum + v * v, 0);
    const [recorded, swapped, mono] = await Promise.all([chunk(), chunk('swapped'), chunk('mono')]);
    expect(energy(recorded.channels![0])).toBeGreaterThan(0);
    expect(energy(recorded.channels![1])).toBe(0);
    expect(energy(swapped.channels![0])).toBe(0);
    expect(energy(swapped.channels![1])).toBeGreaterThan(0);
    expect(mono.channels).toBeUndefined();
    expect(Array.from(mono.samples)).toEqual(Array.from(recorded.samples));
    expect(errorOf('streams: [{id: a, source: {demo: true}, stereo: reversed}]')).toMatch(
      /^venue\.yaml: streams\[0\]\.stereo: /,
    );
  });

  it('refuses mistakes, naming the file, the path and what was expected', () => {
    expect(errorOf('streams: [')).toMatch(/^venue\.yaml: not valid YAML/);
    expect(errorOf('{"streams": []}', 'venue.json')).toBe(
      'venue.json: streams: expected at least one stream',
    );
    expect(errorOf('streams:\n  - id: a\n    source: {webcam: 1}')).toBe(
      'venue.yaml: streams[0].source: expected exactly one of file, url, microphone, camera, demo (with its settings)',
    );
    expect(
      errorOf(
        'streams:\n  - id: a\n    source: {demo: true}\n    questions: [Is the violin loud?]',
      ),
    ).toMatch(/^venue\.yaml: streams\[0\]\.questions\[0\]: .*Is the violin loud\?/);
    expect(
      errorOf('streams:\n  - {id: a, source: {demo: true}}\n  - {id: a, source: {demo: true}}'),
    ).toBe('venue.yaml: streams[1].id: stream id "a" is used twice');
    expect(
      errorOf('streams:\n  - {id: a, source: {demo: true}, osc: [{url: "osc://desk:9"}]}'),
    ).toBe('venue.yaml: streams[0].osc[0].url: expected udp://host:port or tcp://host:port');
    expect(
      errorOf(
        'streams:\n  - {id: a, source: {demo: true}, rules: [{condition: {kind: answer-becomes, answer: "yes"}}]}',
      ),
    ).toBe(
      'venue.yaml: streams[0].rules[0].question: a rule on answers needs the question it watches (its position in questions)',
    );
    expect(errorOf('monitor: {port: 99999}\nstreams: [{id: a, source: {demo: true}}]')).toMatch(
      /^venue\.yaml: monitor\.port: /,
    );
    expect(errorOf('monitr: {}\nstreams: [{id: a, source: {demo: true}}]')).toMatch(
      /^venue\.yaml: \(top level\): .*monitr/,
    );
    expect(() => loadVenueConfig('/nonexistent/venue.yaml')).toThrow(
      /^\/nonexistent\/venue\.yaml: cannot read/,
    );
  });

  it('npm start -- --config FILE runs its streams; the environment overrides its settings', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-venue-'));
    const file = path.join(dir, 'venue.yaml');
    // Port 1 would be refused: TUTTI_PORT=0 must win.
    writeFileSync(
      file,
      'monitor: {port: 1}\nstreams:\n  - id: stage-a\n    source: {demo: true}\n    questions: [Is there a flute sound?]\n',
    );
    const child = spawn('node', ['--import', 'tsx', 'server/main.ts', '--config', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, TUTTI_PORT: '0', TUTTI_DB: ':memory:', TUTTI_TOKEN: 'venue' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => output.includes('listening on') && resolve());
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
      const auth = { headers: { authorization: 'Bearer venue' } };
      expect(await (await fetch(`${url}/api/streams`, auth)).json()).toEqual({
        streams: ['stage-a'],
      });
      const questions = (await (
        await fetch(`${url}/api/streams/stage-a/questions`, auth)
      ).json()) as { questions: Array<{ sentence: string }> };
      expect(questions.questions.map((q) => q.sentence)).toEqual(['Is there a flute sound?']);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }, 60_000);

  it('stops the start with the reasons when the file is wrong', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-venue-'));
    const file = path.join(dir, 'venue.json');
    writeFileSync(file, '{"streams": [{"id": "a b", "source": {"demo": true}}]}');
    const child = spawn('node', ['--import', 'tsx', 'server/main.ts', '--config', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, TUTTI_PORT: '0', TUTTI_DB: ':memory:' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain(
      `tutti: cannot start: \n${file}: streams[0].id: expected 1–64 letters`,
    );
  }, 30_000);
});
