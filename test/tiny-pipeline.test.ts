/**
 * The tiny profile's whole training path, in miniature (CI's smoke run): synthetic scenes →
 * TypeScript front-end → encoder pretraining → ONNX encoders through onnxruntime-node → head
 * training → ONNX head → served evaluation. A few steps each; it checks the path, not accuracy.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../server/encoders/model-manifest.js';
import { readNpy } from '../server/datasets/npy-reader.js';
import { extract, repoPath, runCli, runPython, runScript } from './support/run-cli.js';

describe('tiny profile training path (smoke)', () => {
  let work = '';
  let profile = '';
  const synth = () => path.join(work, 'synth');
  const out = () => path.join(work, 'out');
  const extractFeatures = (...options: string[]) =>
    runCli('extract', ['--dataset', synth(), '--out', out(), '--stage', 'features', ...options]);
  const featuresDir = () => path.join(out(), 'features');
  /** Two steps of a head on the clean features, written to `to` (exported unless told not to). */
  const trainHead = (to: string, ...extra: string[]) =>
    runPython([
      'models/qstar/train.py',
      'head',
      '--features',
      featuresDir(),
      '--out',
      to,
      '--epochs',
      '1',
      '--max-steps',
      '2',
      '--checkpoints',
      work,
      ...extra,
    ]);
  /** `train.py export` of a head's checkpoint into `to`. */
  const exportHead = (checkpoint: string, to: string, extra: string[] = []) =>
    runPython(['models/qstar/train.py', 'export', checkpoint, '--out', to, ...extra]);
  /** The encoders' facts' readouts, fitted in 20 steps into `to`. */
  const fitReadouts = (to: string, ...extra: string[]) =>
    runPython([
      'models/qstar/train.py',
      'readouts',
      '--features',
      featuresDir(),
      '--dataset',
      synth(),
      '--out',
      to,
      '--steps',
      '20',
      ...extra,
    ]);

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'tutti-tiny-'));
    profile = path.join(work, 'profile');
    await runCli('synth', ['--scenes', '10', '--seconds', '4', '--seed', '11', '--out', synth()]);
    await extract(synth(), out());
  }, 240_000);

  it('pretrains and exports the encoders, extracts features, trains and exports the head, and serves it', async () => {
    await runPython([
      'models/qstar/train.py',
      'encoders',
      '--frontend',
      path.join(out(), 'frontend'),
      '--dataset',
      synth(),
      '--out',
      profile,
      '--epochs',
      '1',
      '--max-steps',
      '2',
    ]);
    for (const file of ['tiny-ast.onnx', 'tiny-audio.onnx', 'tiny-frame.onnx'])
      expect(existsSync(path.join(profile, file)), file).toBe(true);

    copyFileSync(repoPath('models', 'tiny', 'manifest.json'), path.join(profile, 'manifest.json'));
    await extractFeatures('--profile', profile);
    const features = featuresDir();
    const questions = JSON.parse(
      readFileSync(path.join(features, 'questions-train.json'), 'utf8'),
    ) as Array<{ ids: number[]; answer: number }>;
    expect(questions.length).toBeGreaterThan(10);
    // The audio encoder: the clip embedding, then per class the onsets counted at 10 ms and
    // whether it sounds (TinyOnsets joined to its graph), which differ from second to second.
    const audio = await readNpy(path.join(features, 'audio.npy'));
    const width = 128 + 2 * 22;
    expect(audio.shape).toEqual([10, 4, width]);
    const audioData = audio.data as Float32Array;
    const onsetFacts = (row: number) =>
      Array.from(audioData.subarray(row * width + 128, (row + 1) * width));
    expect(onsetFacts(0)).not.toEqual(onsetFacts(5));
    // Beside the clean features, each second's band power per channel: the scenes are stereo.
    const stereo = await readNpy(path.join(features, 'stereo.npy'));
    expect(stereo.shape).toEqual([10, 4, 2, 64]);
    const data = stereo.data as Float32Array;
    let imbalance = 0;
    for (let i = 0; i < data.length; i += 128)
      for (let b = 0; b < 64; b++) imbalance += Math.abs(data[i + b]! - data[i + 64 + b]!);
    expect(imbalance).toBeGreaterThan(0);

    // Two steps of a head, exported into the profile.
    const { stdout } = await trainHead(profile);
    expect(stdout).toMatch(/full epoch 1\/1: loss [\d.]+, val accuracy/);

    expect(readManifest(profile).profile).toBe('tiny');
    const evaluate = (variant: string) =>
      runCli('eval', [
        '--annotations',
        path.join(synth(), 'avqa-test.json'),
        '--features',
        features,
        '--model',
        profile,
        '--variant',
        variant,
      ]);
    const { stdout: table } = await evaluate('full');
    expect(table).toMatch(/Overall Accuracy: \d+\.\d\d %/);

    // The encoders' facts read by fitted maps, inside the head: the monitor's inputs stay the same.
    const readouts = path.join(work, 'readouts.pt');
    const fitted = await fitReadouts(readouts);
    expect(fitted.stdout).toMatch(/readouts → .*heard_macro_f1/);
    const { stdout: conceptsRun } = await trainHead(
      profile,
      '--class-slots',
      '--concepts',
      readouts,
    );
    expect(conceptsRun).toMatch(/full-concepts epoch 1\/1/);
    expect((await evaluate('full')).stdout).toMatch(/Overall Accuracy: \d+\.\d\d %/);
    // Beside the exported head, its slim checkpoint: it re-exports the same head byte for byte.
    const fromSlim = path.join(work, 'from-slim');
    await exportHead(path.join(profile, 'qstar-tiny.pt'), fromSlim);
    for (const file of ['tiny-question.onnx', 'qstar-tiny.onnx'])
      expect(
        readFileSync(path.join(fromSlim, file)).equals(readFileSync(path.join(profile, file))),
        file,
      ).toBe(true);
    // Readouts fitted again with the head's maps of what is seen kept (--sight-from: only what
    // reads the audio is fitted), then put into the head's re-export (export --readouts).
    const slim = path.join(profile, 'qstar-tiny.pt');
    const refitted = path.join(work, 'sight-readouts.pt');
    await fitReadouts(refitted, '--sight-from', slim);
    const { stdout: kept } = await runPython([
      '-c',
      `import torch; r = torch.load(${JSON.stringify(refitted)}); s = torch.load(${JSON.stringify(slim)}, weights_only=False)["best_state"]
print(all(torch.equal(r[n][0], s[f"head.concepts.{n}_weight"]) and torch.equal(r[n][1], s[f"head.concepts.{n}_bias"]) for n in ("columns", "frame")))`,
    ]);
    expect(kept.trim()).toBe('True');
    await exportHead(slim, path.join(work, 'with-readouts'), ['--readouts', refitted]);
    expect(existsSync(path.join(work, 'with-readouts', 'qstar-tiny.onnx'))).toBe(true);
    // A trained head as the starting point (--init-from): a head of its configuration fine-tunes
    // from its best epoch; one of another configuration is refused in words.
    const fineTuned = await trainHead(
      path.join(work, 'fine-tuned'),
      '--class-slots',
      '--concepts',
      refitted,
      '--init-from',
      slim,
    );
    expect(fineTuned.stdout).toMatch(/qstar-tiny\.pt: starting from its best epoch/);
    expect(fineTuned.stdout).toMatch(/full-concepts epoch 1\/1/);
    await expect(trainHead(path.join(work, 'mismatched'), '--init-from', slim)).rejects.toThrow(
      /not a head of this configuration/,
    );
    // Rules added to a trained head (--heard-count and --sound-in-view have gains of their own;
    // --onset-rates has no weights): those gains start fresh and train alone (--train-only), every
    // weight the head had stays as it was (models/added-rules.sh).
    const withRules = ['--class-slots', '--concepts', refitted, '--stage-rules'];
    const rulesHead = path.join(work, 'rules-head');
    await trainHead(rulesHead, ...withRules);
    const addedRules = path.join(work, 'added-rules');
    const added = ['--heard-count', '--sound-in-view', '--onset-rates'];
    const gains = ['head.rules.heard_gain', 'head.rules.view_gain'];
    const initFrom = ['--init-from', path.join(rulesHead, 'qstar-tiny.pt')];
    const addedRun = await trainHead(
      addedRules,
      ...withRules,
      ...added,
      ...initFrom,
      '--train-only',
      ...gains,
    );
    expect(addedRun.stdout).toMatch(/full-concepts-rules-heard-inview-rates epoch 1\/1/);
    const { stdout: compared } = await runPython([
      '-c',
      `import torch
a = torch.load(${JSON.stringify(path.join(rulesHead, 'qstar-tiny.pt'))}, weights_only=False)["best_state"]
b = torch.load(${JSON.stringify(path.join(addedRules, 'qstar-tiny.pt'))}, weights_only=False)["best_state"]
print(all(torch.equal(a[n], b[n]) for n in a), " ".join(sorted(n for n in b if n not in a)))`,
    ]);
    expect(compared.trim()).toBe(
      'True head.rules.heard_gain.bias head.rules.heard_gain.weight head.rules.view_gain.bias head.rules.view_gain.weight',
    );
    await expect(
      trainHead(path.join(work, 'nothing'), ...withRules, ...initFrom, '--train-only', 'head.none'),
    ).rejects.toThrow(/no parameter has such a name/);

    // The ablation runner: variants side by side, each scored on held-out features (here the same
    // features stand in for them), then its table with paired tests; a run's checkpoint re-exports.
    const ablation = path.join(work, 'ablation');
    const ran = await runScript('models/ablation.sh', [features, readouts, ablation, features], {
      VARIANTS: 'full no_all',
      SEEDS: '0',
      EXTRA: '--epochs 1 --max-steps 2', // the shipped recipe: class facts and StageRules
    });
    expect(ran.stdout).toMatch(/ablation: full seed 0 done/);
    expect(ran.stdout).toMatch(/ablation: no_all seed 0 done/);
    const { stdout: ablationTable } = await runPython([
      'models/qstar/report.py',
      '--heads',
      ablation,
    ]);
    expect(ablationTable).toMatch(/^\| full \| 1 \|( [\d.]+ \|){9} \*\*[\d.]+\*\* ± [\d.]+ \|/m);
    expect(ablationTable).toMatch(/full vs no_all \(1 seeds\): full alone right on \d+/);
    const exported = path.join(work, 'reexported');
    const ablationHead = path.join(
      ablation,
      'checkpoints',
      'qstar-tiny-full-concepts-classfacts-rules-lookalikes.pt',
    );
    await exportHead(ablationHead, exported);
    for (const file of ['tiny-question.onnx', 'qstar-tiny.onnx'])
      expect(existsSync(path.join(exported, file)), file).toBe(true);
    // Loudness by where it sounds: templates from the stereo bands, the head re-exported with
    // them (its slim checkpoint holding them), served on the stereo features.
    const templates = path.join(work, 'stereo-templates.json');
    const fittedStereo = await runPython([
      'models/qstar/train.py',
      'stereo-templates',
      '--features',
      features,
      '--dataset',
      synth(),
      '--out',
      templates,
    ]);
    expect(fittedStereo.stderr + fittedStereo.stdout).toMatch(
      /stereo templates from \d+ training scenes/,
    );
    const stereoProfile = path.join(work, 'stereo-profile');
    mkdirSync(stereoProfile);
    for (const file of ['manifest.json', 'tiny-ast.onnx', 'tiny-audio.onnx', 'tiny-frame.onnx'])
      copyFileSync(path.join(profile, file), path.join(stereoProfile, file));
    await exportHead(ablationHead, stereoProfile, [
      '--stereo-templates',
      templates,
      '--slim',
      path.join(stereoProfile, 'qstar-tiny.pt'),
    ]);
    const served = await runCli('eval', [
      '--annotations',
      path.join(synth(), 'avqa-test.json'),
      '--features',
      features,
      '--model',
      stereoProfile,
    ]);
    expect(served.stdout).toMatch(/Overall Accuracy: \d+\.\d\d %/);
    const fromStereoSlim = path.join(work, 'from-stereo-slim');
    await exportHead(path.join(stereoProfile, 'qstar-tiny.pt'), fromStereoSlim);
    expect(
      readFileSync(path.join(fromStereoSlim, 'qstar-tiny.onnx')).equals(
        readFileSync(path.join(stereoProfile, 'qstar-tiny.onnx')),
      ),
    ).toBe(true);
    // Only the full variant was trained here: asking for another names what is missing.
    await expect(evaluate('no_tfi')).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /variant no_tfi, names missing files: tiny-question-no_tfi\.onnx, qstar-tiny-no_tfi\.onnx/,
      ),
    });
  }, 240_000);

  it('degrades the audio of every video as a room and microphone would, and extracts features from it', async () => {
    const room = ['--degrade', 'all', '--degrade-seed', '13'];
    await runCli('extract', ['--dataset', synth(), '--out', out(), ...room]);
    const frontend = path.join(out(), 'frontend-all');
    const record = JSON.parse(readFileSync(path.join(frontend, 'degradations.json'), 'utf8')) as {
      applied: Record<string, Array<{ kind: string }>>;
    };
    expect(Object.keys(record.applied)).toHaveLength(10);
    for (const applied of Object.values(record.applied))
      expect(applied.map((a) => a.kind)).toEqual(['reverb', 'noise', 'mic-eq', 'level', 'codec']);
    const clean = await readNpy(path.join(out(), 'frontend', 'fbank.npy'));
    const degraded = await readNpy(path.join(frontend, 'fbank.npy'));
    expect(degraded.shape).toEqual(clean.shape);
    const changed = (degraded.data as Float32Array).filter(
      (x, i) => Math.abs(x - (clean.data as Float32Array)[i]!) > 0.5,
    ).length;
    expect(changed / clean.data.length).toBeGreaterThan(0.2);
    // Pictures are left alone: only the sound changes.
    const [pixels, cleanPixels] = await Promise.all(
      [frontend, path.join(out(), 'frontend')].map((dir) => readNpy(path.join(dir, 'pixels.npy'))),
    );
    expect(
      Buffer.compare(Buffer.from(pixels!.data.buffer), Buffer.from(cleanPixels!.data.buffer)),
    ).toBe(0);
    await extractFeatures('--degrade', 'all');
    expect(existsSync(path.join(out(), 'features-all', 'audio.npy'))).toBe(true);
    // Both channels through the room with the front-end's draws: its seed (13) is read from its
    // degradations.json, not taken from the features stage's --degrade-seed (default 7).
    const stereoOf = async () =>
      Buffer.from((await readNpy(path.join(out(), 'features-all', 'stereo.npy'))).data.buffer);
    const withFeatures = await stereoOf();
    const stereoStage = () =>
      runCli('extract', [
        '--dataset',
        synth(),
        '--out',
        out(),
        '--stage',
        'stereo',
        '--degrade',
        'all',
      ]);
    await stereoStage();
    expect(Buffer.compare(await stereoOf(), withFeatures)).toBe(0);
    const drawn = path.join(frontend, 'degradations.json');
    renameSync(drawn, `${drawn}.away`); // without it, the default seed's room
    await stereoStage();
    renameSync(`${drawn}.away`, drawn);
    expect(Buffer.compare(await stereoOf(), withFeatures)).not.toBe(0);
    const cleanStereo = await readNpy(path.join(featuresDir(), 'stereo.npy'));
    expect(Buffer.compare(withFeatures, Buffer.from(cleanStereo.data.buffer))).not.toBe(0);

    // Training through the room: the audio encoders draw examples from both front-ends and report
    // their validation through the room beside the clean one.
    const pretrain = (...rooms: string[]) =>
      runPython([
        'models/qstar/train.py',
        'encoders',
        '--frontend',
        path.join(out(), 'frontend'),
        '--dataset',
        synth(),
        '--out',
        path.join(work, 'room-profile'),
        '--checkpoints',
        work,
        '--epochs',
        '1',
        '--max-steps',
        '2',
        '--only',
        'audio',
        '--room-frontend',
        ...rooms,
      ]);
    const { stdout: roomRun } = await pretrain(frontend);
    expect(roomRun).toMatch(/audio through the rooms: validation \{'presence_macro_f1'/);
    const report = JSON.parse(
      readFileSync(path.join(work, 'room-profile', 'encoders-report.json'), 'utf8'),
    ) as { room_frontends: string[]; audio: { room_validation: Record<string, number> } };
    expect(report.room_frontends).toEqual([frontend]);
    expect(report.audio.room_validation.presence_macro_f1).toBeGreaterThanOrEqual(0);
    // Readouts and a head drawing their audio features from the clean and the room's extraction.
    const roomFeatures = path.join(out(), 'features-all');
    const roomReadouts = path.join(work, 'room-readouts.pt');
    const fitted = await fitReadouts(roomReadouts, '--room-features', roomFeatures);
    expect(fitted.stdout).toMatch(/heard_macro_f1_room1/);
    const { stdout: roomHead } = await trainHead(
      work,
      '--no-export',
      '--class-slots',
      '--concepts',
      roomReadouts,
      '--room-features',
      roomFeatures,
      '--room-share',
      '0.25',
    );
    expect(roomHead).toMatch(/full-concepts-rooms0.25 epoch 1\/1: loss [\d.]+, val accuracy/);
    // Features or front-ends of other scenes would pair them with the wrong truth: refused.
    const other = path.join(work, 'other-room');
    mkdirSync(other);
    for (const file of ['videos.json', 'features.json'])
      writeFileSync(path.join(other, file), JSON.stringify({ videos: ['someone-else'] }));
    // Taught silence: presence questions on the scenes' silent-audio features answer no / zero.
    await extractFeatures('--counterfactual', 'silent-audio');
    const silence = ['--silence', '0.5', '--dataset', synth(), '--no-export'];
    const silentFeatures = path.join(out(), 'features-silent-audio');
    const { stdout: silentHead } = await trainHead(
      work,
      ...silence,
      '--silent-features',
      silentFeatures,
    );
    expect(silentHead).toMatch(
      /silence: 50% of the \d+ questions silence leaves answerable \(\d+ of them change answer\)/,
    );
    expect(silentHead).toMatch(/full-silence epoch 1\/1: loss [\d.]+, val accuracy/);
    // Sighted hearing: which classes sound, read from the audio features and sight's readouts,
    // taught that silent audio sounds of nothing; a head on it loads its two layers.
    const sightedReadouts = path.join(work, 'sighted-readouts.pt');
    const sighted = ['--heard-hidden', '8', '--heard-epochs', '2', '--silent-features'];
    const { stdout: sightedFit } = await fitReadouts(
      sightedReadouts,
      '--room-features',
      roomFeatures,
      ...sighted,
      silentFeatures,
    );
    expect(sightedFit).toMatch(/readouts → .*'heard_share_silent': 0/);
    const sightedReport = JSON.parse(
      readFileSync(path.join(work, 'sighted-readouts.json'), 'utf8'),
    ) as Record<string, number>;
    for (const key of ['heard_macro_f1', 'heard_macro_f1_room1', 'heard_share_silent'])
      expect(sightedReport[key]).toBeGreaterThanOrEqual(0);
    const { stdout: sightedHead } = await trainHead(
      work,
      '--no-export',
      '--class-slots',
      '--class-facts',
      '--stage-rules',
      '--concepts',
      sightedReadouts,
    );
    expect(sightedHead).toMatch(/read by sighted hearing \(8 hidden units\)/);
    await expect(fitReadouts(sightedReadouts, ...sighted, other)).rejects.toMatchObject({
      stderr: expect.stringMatching(/other-room: not the features' videos/),
    });
    await expect(trainHead(work, ...silence)).rejects.toMatchObject({
      stderr: expect.stringMatching(/--silence needs --silent-features and --dataset/),
    });
    await expect(trainHead(work, ...silence, '--silent-features', other)).rejects.toMatchObject({
      stderr: expect.stringMatching(/other-room: not the features' videos/),
    });
    await expect(pretrain(other)).rejects.toMatchObject({
      stderr: expect.stringMatching(/other-room: not the clean front-end's videos/),
    });
    await expect(
      runCli('extract', ['--dataset', synth(), '--out', out(), '--degrade', 'reverb+echo']),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/unknown degradation "echo"/) });
  }, 240_000);
});
