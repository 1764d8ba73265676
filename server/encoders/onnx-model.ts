/**
 * Loads ONNX models with onnxruntime-node on the execution provider execution-provider.ts plans
 * (TUTTI_PROVIDER). onnxruntime-node throws when asked for a provider it cannot load (even with
 * 'cpu' listed after it), so each is tried in turn; each refusal is said once per process.
 */
import ort from 'onnxruntime-node';
import {
  describeFailure,
  providerPlan,
  type ExecutionProvider,
  type ProviderChoice,
  type ProviderPlan,
} from './execution-provider.js';

export { EXECUTION_PROVIDERS, type ExecutionProvider } from './execution-provider.js';

// onnxruntime logs a provider it cannot load as a red error with its C++ stack before throwing;
// the refusal is reported here in words instead (its other errors are thrown, not only logged).
ort.env.logLevel = 'fatal';

export interface LoadedModel {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProvider;
}

export interface LoadOptions {
  /** Providers to try, best first, falling back in turn (default: TUTTI_PROVIDER's plan). */
  readonly providers?: readonly ExecutionProvider[];
  /** A choice in place of TUTTI_PROVIDER's (tests, tools). */
  readonly choice?: ProviderChoice;
  /** Threads for the CPU provider (default: onnxruntime's choice). */
  readonly threads?: number;
}

let plan: ProviderPlan | undefined;
const said = new Set<string>();

function sayOnce(line: string): void {
  if (said.has(line)) return;
  said.add(line);
  console.warn(`onnxruntime: ${line}`);
}

// WebGPU sessions must not be created or run concurrently (onnxruntime issue #32561 on Linux).
let webgpuQueue: Promise<unknown> = Promise.resolve();
function onWebgpuQueue<T>(work: () => Promise<T>): Promise<T> {
  const result = webgpuQueue.then(work);
  webgpuQueue = result.catch(() => undefined);
  return result;
}

function serialised(session: ort.InferenceSession): ort.InferenceSession {
  const run = session.run.bind(session) as (...args: unknown[]) => Promise<unknown>;
  return Object.assign(session, {
    run: ((...args: unknown[]) => onWebgpuQueue(() => run(...args))) as typeof session.run,
  });
}

/**
 * onnxruntime's thread pools wait for work by spinning (a core each, between runs), which the
 * monitor's other sessions, workers and its main thread need: on this 2-core machine one tiny
 * worker carried 40 streams spinning and 56 not, two workers 40 and 80 (README, "Threads").
 */
const NO_SPINNING = {
  session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
};

export async function loadModel(
  modelPath: string,
  options: LoadOptions = {},
): Promise<LoadedModel> {
  const chosen = options.providers
    ? { providers: options.providers, refused: [], strict: false }
    : options.choice
      ? providerPlan(options.choice)
      : (plan ??= providerPlan());
  if (chosen.strict && chosen.refused.length)
    throw new Error(`TUTTI_PROVIDER=${chosen.refused[0]!.replace(': ', ' cannot be used: ')}`);
  for (const line of chosen.refused) sayOnce(`${line}; not used`);
  const failures: string[] = [];
  for (const provider of chosen.providers) {
    const create = () =>
      ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
        extra: NO_SPINNING,
      });
    try {
      const session = await (provider === 'webgpu' ? onWebgpuQueue(create) : create());
      return { session: provider === 'webgpu' ? serialised(session) : session, provider };
    } catch (error) {
      const reason = describeFailure(provider, (error as Error).message);
      if (chosen.strict)
        throw new Error(`TUTTI_PROVIDER=${provider} cannot run ${modelPath}: ${reason}`);
      failures.push(`${provider}: ${reason}`);
      if (provider !== 'cpu') sayOnce(`${provider}: ${reason}; trying the next provider`);
    }
  }
  throw new Error(
    `cannot load ${modelPath} on any of ${chosen.providers.join(', ')}:\n  ${failures.join('\n  ')}`,
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
