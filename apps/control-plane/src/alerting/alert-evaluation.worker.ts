// Entry point of the alert evaluation's worker thread (see evaluation-thread.ts for why a
// thread): one EvaluationCore per evaluator, which keeps its per-query histories between
// evaluations. It runs at the process's priority: lowered like ingest's (threads/thread-priority.ts),
// the API's tail during evaluations was no better in an A/B of bench:alerts (BENCHMARKS.md).
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { EvaluationCore } from './evaluation-core';
import type { MainToWorker, WorkerToMain } from './evaluation-messages';

const port = parentPort;
if (!port) throw new Error('alert-evaluation.worker must run as a worker thread');
const cores = new Map<string, EvaluationCore>();
const reply = (m: WorkerToMain) => port.postMessage(m);
port.on('message', (m: MainToWorker) => {
  try {
    if (m.type === 'forget') {
      cores.delete(m.owner);
      reply({ type: 'forgotten', seq: m.seq });
    } else {
      let core = cores.get(m.owner);
      if (!core) cores.set(m.owner, (core = new EvaluationCore()));
      // The whole evaluation inside the thread: the caller's `compute` minus this is the hand-over.
      const t = performance.now();
      const output = core.evaluate(m.input);
      output.phasesMs.total = Math.round(performance.now() - t);
      reply({ type: 'evaluated', seq: m.seq, output });
    }
  } catch (e) {
    reply({ type: 'failed', seq: m.seq, message: (e as Error).stack ?? String(e) });
  }
});
