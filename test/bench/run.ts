/**
 * npm run bench: every benchmark, printed and written as JSON under test-results/bench/.
 * `npm run bench -- --cluster` runs the cluster's instead (nats-server and a dozen processes);
 * `npm run bench -- --profile DIR` one model profile's cost per encoder and its real-time factor.
 */
import { parseArgs } from 'node:util';
import { benchCluster, printCluster } from './cluster.bench.js';
import { benchFrontend, printFrontend } from './frontend.bench.js';
import { benchPipeline, printPipeline } from './pipeline.bench.js';
import { benchProfile, printProfile } from './profile.bench.js';
import { benchHistoryLoad, printHistoryLoad } from './history-load.bench.js';
import { writeBenchResult } from './measure.js';

const { values } = parseArgs({
  options: { cluster: { type: 'boolean', default: false }, profile: { type: 'string' } },
});

if (values.profile) {
  const profile = await benchProfile(values.profile);
  printProfile(profile);
  console.log(`written: ${writeBenchResult(`profile-${profile.profile}`, profile)}`);
} else if (values.cluster) {
  const cluster = await benchCluster();
  printCluster(cluster);
  console.log(`written: ${writeBenchResult('cluster', cluster)}`);
} else {
  const frontend = await benchFrontend();
  printFrontend(frontend);
  console.log(`written: ${writeBenchResult('frontend', frontend)}`);

  const pipeline = await benchPipeline();
  printPipeline(pipeline);
  console.log(`written: ${writeBenchResult('pipeline', pipeline)}`);

  const historyLoad = await benchHistoryLoad();
  printHistoryLoad(historyLoad);
  console.log(`written: ${writeBenchResult('history-load', historyLoad)}`);
}
