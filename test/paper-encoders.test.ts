/**
 * The paper profile's encoders (CLIP ViT image tower, VGGish, AST) export through the same code
 * whether weights are random or come from a checkpoint in the public layouts; here at a small
 * scale, replayed through onnxruntime-node.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, tensor } from '../server/encoders/onnx-model.js';
import WebSocket from 'ws';
import { readManifest } from '../server/encoders/model-manifest.js';
import { Monitor } from '../server/monitor.js';
import { mediaFileSource } from '../server/sources/media-file-source.js';
import { serverMessageSchema, type AnswerMessage } from '../shared/protocol/messages.js';
import { PLACEHOLDER_VALUES, TEMPLATES, fillTemplate } from '../shared/question-space/index.js';
import { repoPath, runCli, runPython } from './support/run-cli.js';

interface Entry {
  model: string;
  weights: string;
  inputs: Record<string, { file: string; shape: number[]; dtype: 'float32' | 'int64' | 'bool' }>;
  outputs: Record<string, { file: string; shape: number[] }>;
}

function input(dir: string, a: Entry['inputs'][string]) {
  const bytes = readFileSync(path.join(dir, a.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (a.dtype === 'int64') return tensor(new BigInt64Array(buffer), a.shape);
  if (a.dtype === 'bool') return tensor(new Uint8Array(buffer), a.shape, 'bool');
  return tensor(new Float32Array(buffer), a.shape);
}

function floats(dir: string, file: string): Float32Array {
  const bytes = readFileSync(path.join(dir, file));
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

async function replay(dir: string): Promise<Record<string, Entry>> {
  const manifest = JSON.parse(
    readFileSync(path.join(dir, 'paper-encoders.json'), 'utf8'),
  ) as Record<string, Entry>;
  for (const [name, entry] of Object.entries(manifest)) {
    const { session } = await loadModel(path.join(dir, entry.model));
    const feeds = Object.fromEntries(
      Object.entries(entry.inputs).map(([name, a]) => [name, input(dir, a)]),
    );
    const results = await session.run(feeds);
    for (const [output, a] of Object.entries(entry.outputs)) {
      const want = floats(dir, a.file);
      const got = results[output]!.data as Float32Array;
      expect(results[output]!.dims, `${name}.${output}`).toEqual(a.shape);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst, `${name}.${output}`).toBeLessThan(1e-4);
    }
    await session.release();
  }
  return manifest;
}

// Saves small models' weights as their public checkpoints lay them out (OpenAI CLIP: text tower
// at the top level, image tower under "visual.", logit_scale beside them; torchvggish plain; HF ASTForAudioClassification under "audio_spectrogram_transformer."
// with its classifier), for export.py to load back.
const WRITE_CHECKPOINTS = `
import sys, torch
sys.path.insert(0, 'models/qstar')
from export import paper_encoders
out = sys.argv[1]
modules = {name: module for name, module, *_ in paper_encoders(True, seed=123)}
clip = {'visual.' + k: v for k, v in modules['clip-visual'].state_dict().items()}
clip.update(modules['clip-text'].state_dict())
clip['logit_scale'] = torch.zeros(())
torch.save(clip, out + '/clip.pt')
torch.save(modules['vggish'].state_dict(), out + '/vggish.pth')
ast = {'audio_spectrogram_transformer.' + k: v for k, v in modules['ast'].state_dict().items()}
ast['classifier.dense.weight'] = torch.zeros(527, 32)
torch.save(ast, out + '/ast.bin')
`;

describe('paper encoders', () => {
  it('export with random weights and run in onnxruntime-node like in torch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-paper-'));
    await runPython(['models/qstar/export.py', 'paper', dir, '--small', '--fixtures']);
    const manifest = await replay(dir);
    expect(Object.keys(manifest)).toEqual(['clip-text', 'clip-visual', 'vggish', 'ast']);
    expect(manifest['ast']!.outputs['tokens']!.shape).toEqual([2, 12, 32]); // 12 frequency bands
  }, 120_000);

  it('load checkpoints in the public layouts, and refuse ones that do not fit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-paper-'));
    await runPython(['-c', WRITE_CHECKPOINTS, dir]);
    const args = [
      '--clip',
      `${dir}/clip.pt`,
      '--vggish',
      `${dir}/vggish.pth`,
      '--ast',
      `${dir}/ast.bin`,
    ];
    // Loaded with seed 0 while the checkpoints were made with seed 123: equal outputs mean the
    // checkpoint weights, not the seeded ones, were exported.
    const loaded = path.join(dir, 'loaded');
    const reference = path.join(dir, 'reference');
    await runPython(['models/qstar/export.py', 'paper', loaded, '--small', '--fixtures', ...args]);
    await runPython([
      'models/qstar/export.py',
      'paper',
      reference,
      '--small',
      '--fixtures',
      '--seed',
      '123',
    ]);
    const manifest = await replay(loaded);
    expect(manifest['vggish']!.weights).toBe(`${dir}/vggish.pth`);
    for (const name of ['clip-text', 'clip-visual', 'vggish', 'ast']) {
      for (const [output, a] of Object.entries(manifest[name]!.outputs)) {
        const fromCheckpoint = floats(loaded, a.file);
        const fromSeed = floats(reference, a.file);
        expect(
          Math.max(...fromCheckpoint.map((v, i) => Math.abs(v - fromSeed[i]!))),
          `${name}.${output}`,
        ).toBeLessThan(1e-5);
      }
    }
    await expect(
      runPython([
        'models/qstar/export.py',
        'paper',
        path.join(dir, 'bad'),
        '--small',
        '--clip',
        `${dir}/vggish.pth`,
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /vggish\.pth: weights do not fit: missing \['positional_embedding'/,
      ),
    });
  }, 180_000);

  it('make a profile whose head trains on frozen CLIP-text features and that the monitor serves: CLIP-cropped frames, BPE questions, answers with evidence', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-paper-'));
    const corpus = path.join(dir, 'corpus.txt');
    writeFileSync(
      corpus,
      TEMPLATES.map((t) =>
        fillTemplate(
          t,
          t.placeholders.map((p) => PLACEHOLDER_VALUES[p][0]!),
        ),
      ).join('\n'),
    );
    await runPython([
      'models/reference/clip_tokenizer.py',
      'learn',
      corpus,
      path.join(dir, 'merges.txt'),
      '--merges',
      '200',
    ]);
    const profile = path.join(dir, 'profile');
    await runPython([
      'models/qstar/export.py',
      'paper',
      profile,
      '--small',
      '--profile',
      '--merges',
      path.join(dir, 'merges.txt'),
    ]);
    expect(readManifest(profile).frontend.frameResize).toBe('centre-crop');

    // The paper's head on this profile's frozen encoders and text tower: scenes through the
    // profile's front-end (CLIP's crop) and encoders, questions through its text tower, once.
    const synth = path.join(dir, 'synth');
    const out = path.join(dir, 'out');
    await runCli('synth', ['--scenes', '10', '--seconds', '3', '--seed', '12', '--out', synth]);
    const extract = (...stage: string[]) =>
      runCli('extract', ['--dataset', synth, '--out', out, '--profile', profile, ...stage]);
    await extract('--stage', 'frontend');
    const { stdout: extracted } = await extract('--stage', 'features');
    expect(extracted).toMatch(/train questions through paper's text tower \(24 wide\)/);
    const features = path.join(out, 'features');
    expect(JSON.parse(readFileSync(path.join(features, 'features.json'), 'utf8'))).toMatchObject({
      questionFeatures: 'text-tower',
    });
    const randomHead = readFileSync(path.join(profile, 'qstar-paper.onnx'));
    const { stdout: trained } = await runPython([
      'models/qstar/train.py',
      'head',
      '--features',
      features,
      '--out',
      profile,
      '--checkpoints',
      dir,
      '--epochs',
      '1',
      '--d-model',
      '32',
      '--heads',
      '4',
      '--held-out',
      features,
    ]);
    expect(trained).toMatch(/full epoch 1\/1: loss [\d.]+, val accuracy/);
    expect(trained).toMatch(/held out .*features: [\d.]+ %/);
    expect(trained).toMatch(/exported to/);
    expect(readFileSync(path.join(profile, 'qstar-paper.onnx')).equals(randomHead)).toBe(false);
    // Frames made for the tiny profile cannot feed the paper's encoders: refused with the fix.
    const tinyOut = path.join(dir, 'tiny-out');
    await runCli('extract', ['--dataset', synth, '--out', tinyOut]);
    await expect(
      runCli('extract', [
        '--dataset',
        synth,
        '--out',
        tinyOut,
        '--stage',
        'features',
        '--profile',
        profile,
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /made for 128×64 frames \(squash\).*takes 56×56 \(centre-crop\).*--profile/,
      ),
    });

    const monitor = new Monitor({
      profile,
      host: '127.0.0.1',
      port: 0,
      token: 't',
      windowSeconds: 4,
      hopSeconds: 1,
      database: ':memory:',
      log: () => undefined,
      streams: [
        {
          id: 'demo',
          source: () =>
            mediaFileSource(repoPath('server/sources/demo/demo.mp4'), { realtime: true }),
          questions: ['Is the clarinet on the right louder than the flute on the left?'],
        },
      ],
    });
    await monitor.start();
    try {
      const socket = new WebSocket(`${monitor.url.replace('http', 'ws')}/ws`, {
        headers: { authorization: 'Bearer t' },
      });
      const answer = await new Promise<AnswerMessage>((resolve) => {
        socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', stream: 'demo' })));
        socket.on('message', (data) => {
          const message = serverMessageSchema.parse(JSON.parse(data.toString()));
          if (message.type === 'answer') resolve(message);
        });
      });
      socket.close();
      expect(answer.attention.patchGrid).toEqual([4, 4]);
      expect(answer.attention.spatial[0]).toHaveLength(16);
      expect(answer.attention.frequency).toHaveLength(12); // AST's 12 frequency patches
      expect(answer.alternatives).toHaveLength(3);
    } finally {
      await monitor.stop();
    }
  }, 240_000);
});
