#!/usr/bin/env node
/**
 * Runs before `npm start` and `npm test` (their npm pre-hooks) so that those two commands work on
 * a fresh Debian machine: installs the npm dependencies when node_modules is missing or older
 * than package-lock.json, and the Debian packages the chosen command needs when any is missing
 * (with apt-get as root; otherwise it prints the exact command and fails).
 * Plain JavaScript with no dependencies, because it runs before any are installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Debian packages each command needs, and why. */
const SYSTEM_PACKAGES = {
  start: {
    ffmpeg: 'decodes the demo clip, files, cameras and network streams',
  },
  test: {
    ffmpeg: 'decodes and encodes test media',
    chromium: 'end-to-end dashboard tests (driven by playwright-core)',
    fluidsynth: 'renders realistic instrument audio for synthetic scenes',
    'fluid-soundfont-gm': 'sampled General MIDI instruments',
    'musescore-general-soundfont': 'a second set of sampled instruments (timbre variety)',
    'timgm6mb-soundfont': 'a third set of sampled instruments',
    'csound-soundfont': 'a soundfont training never uses (robustness to unseen timbres)',
    'python3-numpy': 'reference implementations for parity tests',
    'python3-pil': 'Pillow, the reference for CLIP frame preprocessing',
    'python3-torch': 'training, ONNX export and parity tests under models/',
    'python3-torchaudio': "torchaudio's Kaldi fbank, the reference for the AST front-end",
    'python3-onnx': 'carries random-weight profiles to a GPU machine (models/qstar/weightless.py)',
    'libopenblas0-pthread': 'makes Debian PyTorch ~75x faster on the CPU',
    'espeak-ng': 'speaks the voiceovers of synthetic scenes',
    pulseaudio: 'a null sink to record from with naudiodon in tests',
    'nats-server': 'the bus of cluster mode (JetStream), started by its tests',
  },
};

const mode = process.argv[2];
if (!(mode in SYSTEM_PACKAGES)) {
  console.error(`usage: node scripts/ensure-setup.mjs ${Object.keys(SYSTEM_PACKAGES).join('|')}`);
  process.exit(2);
}

function fail(message) {
  console.error(`\nsetup: ${message}\n`);
  process.exit(1);
}

function run(command, args, env = process.env) {
  console.log(`setup: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.status !== 0)
    fail(`\`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal})`);
}

function ensureSystemPackages(packages) {
  if (spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.warn(
      `setup: not a Debian system; make sure these are installed: ${packages.join(' ')}`,
    );
    return;
  }
  const missing = packages.filter((name) => {
    const query = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return !query.stdout.includes('install ok installed');
  });
  if (missing.length === 0) return;
  const why = missing.map((name) => `  ${name}: ${SYSTEM_PACKAGES[mode][name]}`).join('\n');
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) {
    fail(
      `missing Debian packages:\n${why}\nInstall them with:\n  sudo apt-get update && sudo apt-get ${install.join(' ')}`,
    );
  }
  console.log(`setup: installing missing Debian packages:\n${why}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], env);
  run('apt-get', install, env);
}

/** npm ci when node_modules was not installed from the current package-lock.json. */
function ensureNodeModules() {
  const lockHash = createHash('sha256').update(readFileSync('package-lock.json')).digest('hex');
  const stamp = 'node_modules/.tutti-lock-hash';
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash) return;
  // onnxruntime-node's install script would download CUDA files from the internet; the package
  // already ships the CPU binaries (CUDA is detected at run time), so skip it. An environment
  // variable, not an .npmrc key: npm warns on every command about project keys it does not know.
  run('npm', ['ci', '--no-audit', '--no-fund'], {
    ...process.env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });
  writeFileSync(stamp, lockHash);
}

ensureSystemPackages(Object.keys(SYSTEM_PACKAGES[mode]));
ensureNodeModules();
// Fail here, not halfway through the tests, if the system Python cannot import what it needs.
if (mode === 'test') {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy, torch, torchaudio'], { stdio: 'pipe' });
  } catch (error) {
    fail(`/usr/bin/python3 cannot import numpy, torch and torchaudio:\n${error.stderr}`);
  }
}
