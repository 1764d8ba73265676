/**
 * Which onnxruntime execution provider the encoders and the head run on. TUTTI_PROVIDER=auto (the
 * default) tries CUDA, then WebGPU, then the CPU, and says in words why each one before was
 * refused; an explicit choice that cannot load is an error at start-up, never a silent fallback.
 * What can be told without asking onnxruntime (no provider library, a missing CUDA library, no GPU
 * Vulkan driver) is checked here first, so a CPU machine starts without onnxruntime's stack traces.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export type ProviderChoice = 'auto' | ExecutionProvider;

export interface ProviderPlan {
  /** Providers to try, best first. */
  readonly providers: readonly ExecutionProvider[];
  /** One line per provider left out, with the reason in words. */
  readonly refused: readonly string[];
  /** An explicit choice: failing to load is an error, not a reason to try the next one. */
  readonly strict: boolean;
}

export function providerChoice(value = process.env['TUTTI_PROVIDER']): ProviderChoice {
  const choice = (value ?? '').trim().toLowerCase() || 'auto';
  if (choice === 'auto' || (EXECUTION_PROVIDERS as readonly string[]).includes(choice))
    return choice as ProviderChoice;
  throw new Error(`TUTTI_PROVIDER=${value} is not a provider: use auto, cuda, webgpu or cpu`);
}

/** onnxruntime-node's native folder (its library, and the CUDA provider's where installed). */
export function nativeDirectory(): string {
  const binding = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  return path.join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The library a dynamic loader's error message says it could not find, if it says one. */
function unfoundLibrary(message: string): string | undefined {
  return /([^\s:/]+\.so[.\d]*): cannot open shared object file/.exec(message)?.[1];
}

/** The first shared library `file` needs that the dynamic loader cannot find, if any. */
export function missingLibrary(file: string): string | undefined {
  try {
    // dlopen resolves every dependency; a library that is no Node addon then fails to register,
    // which only means that it loaded.
    process.dlopen({ exports: {} } as NodeJS.Module, file);
  } catch (error) {
    return unfoundLibrary((error as Error).message);
  }
  return undefined;
}

/** Why CUDA cannot run here, before asking onnxruntime; undefined when it is worth trying. */
export function cudaRefusal(directory = nativeDirectory()): string | undefined {
  const provider = path.join(directory, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(provider))
    return 'not installed (onnxruntime-node has no CUDA provider library: README, "GPU")';
  const missing = missingLibrary(provider);
  return missing
    ? `needs ${missing}, which the loader cannot find (CUDA and cuDNN on LD_LIBRARY_PATH; npm run setup:cuda names what is missing)`
    : undefined;
}

const VULKAN_DRIVER_FOLDERS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const SOFTWARE_VULKAN = /lvp|lavapipe|swiftshader/i;

/** Why WebGPU is not worth trying here (auto only): Dawn needs a GPU's Vulkan driver. */
export function webgpuRefusal(folders = VULKAN_DRIVER_FOLDERS): string | undefined {
  if (process.env['VK_DRIVER_FILES'] || process.env['VK_ICD_FILENAMES']) return undefined;
  const drivers = folders
    .flatMap((folder) => (existsSync(folder) ? readdirSync(folder) : []))
    .filter((file) => file.endsWith('.json') && !SOFTWARE_VULKAN.test(file));
  return drivers.length === 0
    ? `no GPU Vulkan driver (none but software ones in ${folders.join(', ')})`
    : undefined;
}

export function providerPlan(choice: ProviderChoice = providerChoice()): ProviderPlan {
  if (choice !== 'auto') {
    // An explicit CUDA that cannot load is refused with the reason found before onnxruntime.
    const refusal = choice === 'cuda' ? cudaRefusal() : undefined;
    return { providers: [choice], refused: refusal ? [`cuda: ${refusal}`] : [], strict: true };
  }
  const providers: ExecutionProvider[] = [];
  const refused: string[] = [];
  for (const [provider, refusal] of [
    ['cuda', cudaRefusal()],
    ['webgpu', webgpuRefusal()],
  ] as const) {
    if (refusal) refused.push(`${provider}: ${refusal}`);
    else providers.push(provider);
  }
  return { providers: [...providers, 'cpu'], refused, strict: false };
}

/** onnxruntime's refusal of a provider, in words. */
export function describeFailure(provider: ExecutionProvider, message: string): string {
  if (/Failed to load shared library|Failed to load library/.test(message)) {
    const missing = unfoundLibrary(message);
    return `its provider library did not load${missing ? ` (needs ${missing})` : ''}`;
  }
  if (provider === 'webgpu' && /adapter/i.test(message))
    return 'no WebGPU adapter (a GPU Vulkan driver is needed)';
  const first = message.split('\n')[0]!.replace(/^.*\[ONNXRuntimeError\][^:]*:\s*/, '');
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}
