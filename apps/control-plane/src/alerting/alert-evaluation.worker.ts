// Entry point of the alert evaluation's worker thread (see EvaluationThread for why a thread):
// one EvaluationCore, which keeps the per-query histories between evaluations.
import { parentPort } from 'node:worker_threads';
import { EvaluationCore } from './evaluation-core';
import type { MainToWorker, WorkerToMain } from './evaluation-messages';

const port = parentPort;
if (!port) throw new Error('alert-evaluation.worker must run as a worker thread');
const core = new EvaluationCore();
const reply = (m: WorkerToMain) => port.postMessage(m);
port.on('message', (m: MainToWorker) => {
  try {
    if (m.type === 'close') {
      port.close();
    } else if (m.type === 'forget') {
      core.forget();
      reply({ type: 'forgotten', seq: m.seq });
    } else {
      reply({ type: 'evaluated', seq: m.seq, output: core.evaluate(m.input) });
    }
  } catch (e) {
    reply({ type: 'failed', seq: m.seq, message: (e as Error).stack ?? String(e) });
  }
});
