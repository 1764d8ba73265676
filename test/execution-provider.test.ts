import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cudaRefusal,
  describeFailure,
  missingLibrary,
  providerChoice,
  providerPlan,
  webgpuRefusal,
} from '../server/encoders/execution-provider.js';
import { loadModel } from '../server/encoders/onnx-model.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'tutti-provider-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const MODEL = 'models/tiny/tiny-frame.onnx';

const hasCompiler = spawnSync('cc', ['--version']).status === 0;

/** A shared library that needs `libtutti-ghost.so.13`, which no longer exists once it is built. */
function libraryWithAMissingDependency(directory: string, name: string): string {
  mkdirSync(directory, { recursive: true });
  const source = path.join(scratch, 'f.c');
  writeFileSync(source, 'int tutti_f(void) { return 1; }\n');
  const ghost = path.join(scratch, 'libtutti-ghost.so');
  execFileSync('cc', ['-shared', '-fPIC', '-Wl,-soname,libtutti-ghost.so.13', '-o', ghost, source]);
  const library = path.join(directory, name);
  execFileSync('cc', ['-shared', '-fPIC', '-o', library, source, '-Wl,--no-as-needed', ghost]);
  rmSync(ghost);
  return library;
}

/** Runs a module in a fresh Node process (its own provider plan and onnxruntime log level). */
function freshNode(code: string, env: Record<string, string>) {
  const file = path.join(process.cwd(), `.provider-probe-${process.pid}.mts`);
  writeFileSync(file, code);
  try {
    return spawnSync(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  } finally {
    rmSync(file, { force: true });
  }
}

describe('TUTTI_PROVIDER', () => {
  it('is auto by default and takes cuda, webgpu or cpu in any case', () => {
    expect(providerChoice(undefined)).toBe('auto');
    expect(providerChoice(' ')).toBe('auto');
    expect(providerChoice('CUDA')).toBe('cuda');
    expect(providerChoice('webgpu')).toBe('webgpu');
    expect(() => providerChoice('tensorrt')).toThrow(
      'TUTTI_PROVIDER=tensorrt is not a provider: use auto, cuda, webgpu or cpu',
    );
  });

  it('an explicit choice is tried alone and strictly', () => {
    expect(providerPlan('cpu')).toEqual({ providers: ['cpu'], refused: [], strict: true });
    const cuda = providerPlan('cuda');
    expect(cuda).toMatchObject({ providers: ['cuda'], strict: true });
    expect(cuda.refused).toEqual(cudaRefusal() ? [`cuda: ${cudaRefusal()}`] : []);
  });

  it('auto always ends on the CPU and says why each provider before it is left out', () => {
    const plan = providerPlan('auto');
    expect(plan.providers.at(-1)).toBe('cpu');
    expect(plan.strict).toBe(false);
    for (const provider of ['cuda', 'webgpu'] as const)
      expect(plan.providers.includes(provider)).toBe(
        !plan.refused.some((line) => line.startsWith(`${provider}: `)),
      );
  });
});

describe('reasons in words', () => {
  it('CUDA: not installed when onnxruntime-node has no CUDA provider library', () => {
    expect(cudaRefusal(scratch)).toMatch(/^not installed \(onnxruntime-node has no CUDA provider/);
  });

  it.skipIf(!hasCompiler)(
    'CUDA: names the library the provider needs and the loader cannot find',
    () => {
      const directory = path.join(scratch, 'native');
      const library = libraryWithAMissingDependency(directory, 'libonnxruntime_providers_cuda.so');
      expect(missingLibrary(library)).toBe('libtutti-ghost.so.13');
      expect(cudaRefusal(directory)).toMatch(
        /^needs libtutti-ghost\.so\.13, which the loader cannot find/,
      );
    },
  );

  it('a library whose dependencies all load is not reported missing', () => {
    expect(missingLibrary(process.execPath)).toBeUndefined();
  });

  it('WebGPU: software Vulkan drivers alone are no reason to try it, a GPU driver is', () => {
    const folder = path.join(scratch, 'icd.d');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'lvp_icd.x86_64.json'), '{}');
    expect(webgpuRefusal([folder, path.join(scratch, 'absent')])).toMatch(/^no GPU Vulkan driver/);
    writeFileSync(path.join(folder, 'nvidia_icd.json'), '{}');
    expect(webgpuRefusal([folder])).toBeUndefined();
  });

  it("turns onnxruntime's messages into words", () => {
    expect(
      describeFailure(
        'cuda',
        'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
      ),
    ).toBe('its provider library did not load');
    expect(
      describeFailure(
        'webgpu',
        '/onnxruntime_src/…/webgpu_context.cc:136 … Failed to get a WebGPU adapter: No supported adapters',
      ),
    ).toBe('no WebGPU adapter (a GPU Vulkan driver is needed)');
  });
});

describe('loading a model', () => {
  it('an explicit provider that cannot load is an error naming the choice and the reason', async () => {
    const unavailable = cudaRefusal() ? 'cuda' : webgpuRefusal() ? 'webgpu' : undefined;
    if (!unavailable) return; // a machine with both: nothing to refuse
    await expect(loadModel(MODEL, { choice: unavailable })).rejects.toThrow(
      unavailable === 'cuda'
        ? `TUTTI_PROVIDER=cuda cannot be used: ${cudaRefusal()}`
        : /^TUTTI_PROVIDER=webgpu cannot run .*tiny-frame\.onnx: no WebGPU adapter/,
    );
  });

  it('auto on this machine: one line per refusal, no onnxruntime stack, and a session', () => {
    const run = freshNode(
      `import { loadModel } from './server/encoders/onnx-model.ts';
       const a = await loadModel('${MODEL}');
       await loadModel('${MODEL}');
       console.log('provider', a.provider);`,
      { TUTTI_PROVIDER: 'auto' },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^provider (cuda|webgpu|cpu)$/m);
    expect(run.stderr).not.toMatch(/provider_bridge_ort|ONNXRuntimeError|onnxruntime_src/);
    const refusals = run.stderr.split('\n').filter((line) => line.startsWith('onnxruntime: '));
    expect(new Set(refusals).size, 'each refusal said once').toBe(refusals.length);
    for (const provider of providerPlan('auto').refused)
      expect(refusals).toContain(`onnxruntime: ${provider}; not used`);
  });

  it.skipIf(!cudaRefusal())(
    'npm start with TUTTI_PROVIDER=cuda where CUDA cannot load: one clear line, exit 1',
    () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
        env: {
          ...process.env,
          TUTTI_PROVIDER: 'cuda',
          TUTTI_PORT: '0',
          TUTTI_DB: path.join(scratch, 'log.sqlite'),
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `tutti: cannot start: TUTTI_PROVIDER=cuda cannot be used: ${cudaRefusal()}`,
      );
      expect(run.stderr).not.toMatch(/provider_bridge_ort|onnxruntime_src/);
    },
  );

  it('a misspelt TUTTI_PROVIDER stops the load with the accepted values', () => {
    const run = freshNode(
      `import { loadModel } from './server/encoders/onnx-model.ts';
       await loadModel('${MODEL}');`,
      { TUTTI_PROVIDER: 'gpu' },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'TUTTI_PROVIDER=gpu is not a provider: use auto, cuda, webgpu or cpu',
    );
  });
});

describe('npm run setup:cuda --check', () => {
  const check = (native: string) =>
    spawnSync(process.execPath, ['scripts/setup-cuda.mjs', '--check', '--native', native], {
      encoding: 'utf8',
    });

  it('names the provider files that are not installed, and fails', () => {
    const run = check(path.join(scratch, 'empty'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/libonnxruntime_providers_cuda\.so is not in .*empty/);
    expect(run.stderr).toMatch(/libonnxruntime_providers_shared\.so is not in .*empty/);
  });

  it.skipIf(!hasCompiler)(
    'names each library the provider needs that the loader cannot find',
    () => {
      const native = path.join(scratch, 'setup-native');
      libraryWithAMissingDependency(native, 'libonnxruntime_providers_cuda.so');
      writeFileSync(path.join(native, 'libonnxruntime_providers_shared.so'), '');
      const run = check(native);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('libtutti-ghost.so.13: the loader cannot find it');
      expect(run.stderr).not.toMatch(/providers_(cuda|shared)\.so is not in/);
      if (!existsSync('/proc/driver/nvidia/version'))
        expect(run.stderr).toContain('no NVIDIA driver (/proc/driver/nvidia/version is absent)');
    },
  );
});
