/** npm run bench: every benchmark, printed and written as JSON under test-results/bench/. */
import { benchFrontend, printFrontend } from './frontend.bench.js';
import { benchPipeline, printPipeline } from './pipeline.bench.js';
import { benchHistoryLoad, printHistoryLoad } from './history-load.bench.js';
import { writeBenchResult } from './measure.js';

const frontend = await benchFrontend();
printFrontend(frontend);
console.log(`written: ${writeBenchResult('frontend', frontend)}`);

const pipeline = await benchPipeline();
printPipeline(pipeline);
console.log(`written: ${writeBenchResult('pipeline', pipeline)}`);

const historyLoad = await benchHistoryLoad();
printHistoryLoad(historyLoad);
console.log(`written: ${writeBenchResult('history-load', historyLoad)}`);
