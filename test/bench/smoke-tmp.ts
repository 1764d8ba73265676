import { benchCluster, printCluster } from './cluster.bench.js';
printCluster(await benchCluster(2, 5));
