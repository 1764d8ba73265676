/**
 * npm run bench: every benchmark, printed and written as JSON under test-results/bench/.
 * `npm run bench -- --cluster` runs the cluster's instead (nats-server and a dozen processes);
 * `npm run bench -- --profile DIR` one model profile's cost per encoder and its real-time factor
 * (`--batches 1,8,32` the batch sizes, default 1,8); with `--streams 8,16,32` also how many streams
 * the inference workers carry at real time (p99 ≤ 1 s; `--seconds` per count, default 12;
 * `--workers 1,4` as TUTTI_INFERENCE_WORKERS, each in turn, default 1; `--streams-only` skips the
 * encoders' table; `--echo` workers that compute nothing: what the monitor's side carries alone); `--parity` instead compares what the provider computes with the references
 * (the front-end graphs with TypeScript, encoders and head with the CPU provider).
 * Each mode's benchmarks are imported when chosen, so a profile's bench loads no cluster or
 * database code (models/gpu-onnx.sh bundles it for a GPU machine without them).
 */
import { parseArgs } from 'node:util';
import { writeBenchResult } from './measure.js';

const { values } = parseArgs({
  options: {
    cluster: { type: 'boolean', default: false },
    profile: { type: 'string' },
    batches: { type: 'string', default: '1,8' },
    streams: { type: 'string' },
    seconds: { type: 'string', default: '12' },
    workers: { type: 'string', default: '1' },
    'streams-only': { type: 'boolean', default: false },
    echo: { type: 'boolean', default: false },
    parity: { type: 'boolean', default: false },
  },
});

/** A comma-separated list of positive whole numbers (a flag's value). */
function counts(flag: string, value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--${flag} takes positive whole numbers separated by commas, not "${value}"`);
  return list;
}

if (values.profile && values.parity) {
  const { benchParity, printParity } = await import('./parity.bench.js');
  const parity = await benchParity(values.profile);
  printParity(parity);
  console.log(`written: ${writeBenchResult(`parity-${parity.profile}`, parity)}`);
} else if (values.profile) {
  const { benchProfile, printProfile } = await import('./profile.bench.js');
  const { benchStreams, printStreams } = await import('./streams.bench.js');
  if (!values['streams-only']) {
    const profile = await benchProfile(values.profile, counts('batches', values.batches));
    printProfile(profile);
    console.log(`written: ${writeBenchResult(`profile-${profile.profile}`, profile)}`);
  }
  for (const workers of values.streams ? counts('workers', values.workers) : []) {
    const streams = await benchStreams(values.profile, {
      counts: counts('streams', values.streams!),
      seconds: counts('seconds', values.seconds)[0]!,
      workers,
      echo: values.echo,
    });
    printStreams(streams);
    const name = `streams-${streams.profile}-${workers}-workers${values.echo ? '-echo' : ''}`;
    console.log(`written: ${writeBenchResult(name, streams)}`);
  }
} else if (values.cluster) {
  const { benchCluster, printCluster } = await import('./cluster.bench.js');
  const cluster = await benchCluster();
  printCluster(cluster);
  console.log(`written: ${writeBenchResult('cluster', cluster)}`);
} else {
  const { benchFrontend, printFrontend } = await import('./frontend.bench.js');
  const { benchPipeline, printPipeline } = await import('./pipeline.bench.js');
  const { benchHistoryLoad, printHistoryLoad } = await import('./history-load.bench.js');
  const frontend = await benchFrontend();
  printFrontend(frontend);
  console.log(`written: ${writeBenchResult('frontend', frontend)}`);

  const pipeline = await benchPipeline();
  printPipeline(pipeline);
  console.log(`written: ${writeBenchResult('pipeline', pipeline)}`);

  const historyLoad = await benchHistoryLoad();
  printHistoryLoad(historyLoad);
  console.log(`written: ${writeBenchResult('history-load', historyLoad)}`);

  const { benchWindowMemory, printWindowMemory } = await import('./window-memory.bench.js');
  const windowMemory = await benchWindowMemory();
  printWindowMemory(windowMemory);
  console.log(`written: ${writeBenchResult('window-memory', windowMemory)}`);
}
