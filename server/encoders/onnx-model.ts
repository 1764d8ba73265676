/**
 * Loads ONNX models with onnxruntime-node on the best execution provider this machine has:
 * CUDA when its libraries are present, otherwise the CPU. onnxruntime-node throws when asked for
 * a provider it cannot load (even with 'cpu' listed after it), so each is tried in turn.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';

export type ExecutionProvider = 'cuda' | 'cpu';

export interface LoadedModel {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProvider;
}

export interface LoadOptions {
  /** Providers to try, best first (default: cuda, then cpu). */
  readonly providers?: readonly ExecutionProvider[];
  /** Threads for the CPU provider (default: onnxruntime's choice). */
  readonly threads?: number;
}

/**
 * Providers this installation can load: CUDA only where its provider library was installed
 * (onnxruntime-node's install script fetches it; `.npmrc` skips that where there is no network).
 */
export function installedProviders(): ExecutionProvider[] {
  const binding = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  const native = path.join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(path.join(native, 'libonnxruntime_providers_cuda.so'))
    ? ['cuda', 'cpu']
    : ['cpu'];
}

export async function loadModel(
  modelPath: string,
  options: LoadOptions = {},
): Promise<LoadedModel> {
  const providers = options.providers ?? installedProviders();
  const failures: string[] = [];
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      });
      return { session, provider };
    } catch (error) {
      failures.push(`${provider}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `cannot load ${modelPath} on any of ${providers.join(', ')}:\n  ${failures.join('\n  ')}`,
  );
}

export type TensorData = Float32Array | BigInt64Array | Uint8Array;

/** A float32, int64 or bool (Uint8Array, one byte per value) tensor. */
export function tensor(data: TensorData, dims: readonly number[], type?: 'bool'): ort.Tensor {
  const expected = dims.reduce((product, dim) => product * dim, 1);
  if (data.length !== expected)
    throw new Error(
      `tensor of shape [${dims.join(', ')}] needs ${expected} values, got ${data.length}`,
    );
  if (type === 'bool') return new ort.Tensor('bool', data as Uint8Array, dims);
  return new ort.Tensor(data as Float32Array, dims);
}
