#!/usr/bin/env node
/**
 * `npm run setup:cuda` (opt-in; never part of `npm start` or `npm test`): gives onnxruntime-node
 * the CUDA execution provider without reaching anything but the npm registry, then checks that
 * this machine can load it, naming whatever is missing.
 *
 * onnxruntime-node ships only the CPU (and WebGPU) library for Linux x64; its own installer fetches
 * the CUDA 12 provider from NuGet (README, "GPU", for machines with internet). Offline, or for
 * CUDA 13, Microsoft's CUDA 13 build of the provider for onnxruntime 1.29.0 is on the npm registry
 * inside a Unity package; `npm pack` takes it alone (installing it would pull 150 MB of other
 * platforms), and the provider must sit beside exactly the onnxruntime it was built for, so this
 * replaces node_modules/onnxruntime-node with that version (`npm ci` puts the project's back).
 *
 *   node scripts/setup-cuda.mjs            install (when needed) and check
 *   node scripts/setup-cuda.mjs --check    only check; exit 1 when CUDA cannot load here
 *   node scripts/setup-cuda.mjs --check --native DIR   check another onnxruntime native folder
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** The pairing: provider files, the onnxruntime-node they were built for, what they load. */
export const CUDA13 = {
  onnxruntime: '1.29.0',
  providers: 'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9',
  files: ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'],
  folderInPackage: 'package/Plugins/Linux/x64',
  // Opened at run time (dlopen), so not among the provider's declared dependencies.
  loadedLater: ['libcudnn.so.9'],
  minimumDriver: 580,
};

const NATIVE = path.join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');

function say(message) {
  console.log(`setup:cuda: ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0)
    throw new Error(
      `\`${command} ${args.join(' ')}\` failed: ${(result.stderr || result.stdout || '').trim().slice(-800)}`,
    );
  return result.stdout;
}

function installedVersion() {
  const manifest = path.join('node_modules', 'onnxruntime-node', 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
}

function install() {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `the CUDA provider on the npm registry is for Linux x64; this is ${process.platform} ${process.arch}`,
    );
  if (installedVersion() !== CUDA13.onnxruntime) {
    say(
      `onnxruntime-node ${installedVersion() ?? '(none)'} → ${CUDA13.onnxruntime}, the version the CUDA 13 provider was built for`,
    );
    // --ignore-scripts: its installer would try NuGet for CUDA 12 files.
    run(
      'npm',
      [
        'install',
        '--no-save',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        `onnxruntime-node@${CUDA13.onnxruntime}`,
      ],
      { stdio: 'inherit' },
    );
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'tutti-cuda-'));
  try {
    say(
      `npm pack ${CUDA13.providers} (about 180 MB, not installed: only its two Linux libraries are kept)`,
    );
    const tarball = run('npm', [
      'pack',
      CUDA13.providers,
      '--pack-destination',
      scratch,
      '--silent',
    ])
      .trim()
      .split('\n')
      .at(-1);
    const members = CUDA13.files.map((file) => `${CUDA13.folderInPackage}/${file}`);
    run('tar', ['-xzf', path.join(scratch, tarball), '-C', scratch, ...members]);
    mkdirSync(NATIVE, { recursive: true });
    for (const member of members)
      copyFileSync(path.join(scratch, member), path.join(NATIVE, path.basename(member)));
    say(`${CUDA13.files.join(', ')} → ${NATIVE}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Libraries the dynamic loader cannot find for `file` (ldd's "not found" lines). */
export function unresolved(file) {
  const result = spawnSync('ldd', [file], { encoding: 'utf8' });
  return [...(result.stdout ?? '').matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
}

/** Whether the loader finds `library` (the ld.so cache, then LD_LIBRARY_PATH). */
function findable(library) {
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
  if (cache.includes(`${library} `)) return true;
  return (process.env.LD_LIBRARY_PATH ?? '')
    .split(':')
    .filter(Boolean)
    .some((folder) => existsSync(path.join(folder, library)));
}

/** The NVIDIA kernel driver's version, or undefined without one. */
function driverVersion() {
  const file = '/proc/driver/nvidia/version';
  if (!existsSync(file)) return undefined;
  return /Kernel Module\s+(?:for \S+\s+)?(\d+)\.(\d+)/
    .exec(readFileSync(file, 'utf8'))
    ?.slice(1)
    .join('.');
}

/** Everything that stops the CUDA provider in `native` from loading here, in words. */
export function problems(native = NATIVE) {
  const found = [];
  for (const file of CUDA13.files)
    if (!existsSync(path.join(native, file)))
      found.push(`${file} is not in ${native} (run npm run setup:cuda)`);
  const provider = path.join(native, CUDA13.files[0]);
  if (existsSync(provider)) {
    for (const library of unresolved(provider))
      found.push(`${library}: the loader cannot find it (add its folder to LD_LIBRARY_PATH)`);
    for (const library of CUDA13.loadedLater)
      if (!findable(library))
        found.push(
          `${library}: not in the ld.so cache or on LD_LIBRARY_PATH (cuDNN 9 for CUDA 13)`,
        );
  }
  const driver = driverVersion();
  if (!driver) found.push('no NVIDIA driver (/proc/driver/nvidia/version is absent)');
  else if (Number(driver.split('.')[0]) < CUDA13.minimumDriver)
    found.push(
      `NVIDIA driver ${driver} is older than ${CUDA13.minimumDriver}, which CUDA 13 needs`,
    );
  const version = native === NATIVE ? installedVersion() : CUDA13.onnxruntime;
  if (version !== CUDA13.onnxruntime)
    found.push(
      `onnxruntime-node is ${version ?? 'not installed'}; the CUDA 13 provider needs exactly ${CUDA13.onnxruntime}`,
    );
  return found;
}

function main() {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, native: { type: 'string' } },
  });
  if (!values.check) install();
  const found = problems(values.native ?? NATIVE);
  if (found.length === 0) {
    say('the CUDA provider loads here: TUTTI_PROVIDER=auto (or cuda) will use it');
    return;
  }
  console.error(`setup:cuda: CUDA cannot run here yet:\n  - ${found.join('\n  - ')}`);
  process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error(`setup:cuda: ${error.message}`);
    process.exitCode = 1;
  }
}
