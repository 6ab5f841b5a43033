// Removes what test and benchmark runs that ended without cleaning up left (their simulated
// hosts, processes and folders under <tmp>/coxswain-runs; see test/harness/run-root.ts).
// Live runs are left alone. test.sh and bench.sh run it before they start and when they end.

import { sweepStaleRuns } from '../test/harness/run-root.js';

const removed = await sweepStaleRuns((msg) => process.stdout.write(`sweep-runs: ${msg}\n`));
if (removed.length === 0) process.stdout.write('sweep-runs: nothing left by earlier runs\n');
