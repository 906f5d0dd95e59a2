// `node -r @swc-node/register bench/alerts/thread-start.ts <bundle-dir>`
//
// How long the alert evaluation's worker thread takes from nothing to its first answer, run from
// source: from its prebuilt bundle in <bundle-dir> (built first when that directory holds none of
// the current sources), or from its TypeScript when <bundle-dir> cannot be created (e.g. a path
// under a regular file: the build is attempted, fails to be written, and the thread falls back).
// Prints {"source":"bundle"|"source","ms":N}. One process per measurement: the thread is one per
// process and never ended.
import { performance } from 'node:perf_hooks';
import { EvaluationThread } from '../../apps/control-plane/src/alerting/evaluation-thread';
import { packLags } from '../../apps/control-plane/src/alerting/packed-lags';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: thread-start.ts <bundle-dir>');
  process.exit(2);
}
const t0 = performance.now();
const thread = new EvaluationThread(dir);
thread
  .evaluate(
    {
      nowMs: Date.now(),
      full: true,
      rules: [],
      queries: { upserts: [], removed: [] },
      alerts: { upserts: [], removed: [] },
      lags: packLags(new Map()),
      lagsGone: [],
      dashboardUrl: '',
      saveHistories: 0,
    },
    [],
  )
  .then(
    () => {
      const ms = Math.round(performance.now() - t0);
      console.log(JSON.stringify({ source: EvaluationThread.runningSource(), ms }));
      process.exit(0);
    },
    (e: Error) => {
      console.error(e);
      process.exit(1);
    },
  );
