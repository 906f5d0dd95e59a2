// Entry point of the alert evaluation's worker thread (see evaluation-thread.ts for why a
// thread): one EvaluationCore per evaluation share (evaluation-share.ts), which keeps its
// per-query histories between evaluations. It runs at the process's priority: lowered like
// ingest's (threads/thread-priority.ts), the API's tail during evaluations was no better in an A/B
// of bench:alerts (BENCHMARKS.md). Its garbage is collected between evaluations, when the caller
// asks (idle-collection.ts says why): once an interval, after the last share's pass.
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { EvaluationCore } from './evaluation-core';
import type { MainToWorker, WorkerToMain } from './evaluation-messages';
import { CollectionLog, IdleCollection } from './idle-collection';

const port = parentPort;
if (!port) throw new Error('alert-evaluation.worker must run as a worker thread');
const cores = new Map<string, EvaluationCore>();
const reply = (m: WorkerToMain) => port.postMessage(m);
const collections = new CollectionLog();
const idle = new IdleCollection();

port.on('message', (m: MainToWorker) => void handle(m));

async function handle(m: MainToWorker): Promise<void> {
  try {
    if (m.type === 'forget') {
      cores.delete(m.owner);
      reply({ type: 'forgotten', seq: m.seq });
      return;
    }
    idle.cancel();
    let core = cores.get(m.owner);
    if (!core) cores.set(m.owner, (core = new EvaluationCore()));
    // The whole evaluation inside the thread: the caller's `compute` minus this is the hand-over.
    const t = performance.now();
    const output = core.evaluate(m.input);
    const end = performance.now();
    output.phasesMs.total = Math.round(end - t);
    // This thread's own collections inside the evaluation, and the last one run between two.
    output.phasesMs.gc = await collections.msWithin(t, end);
    output.phasesMs.lastIdleCollection = idle.lastMs;
    reply({ type: 'evaluated', seq: m.seq, output });
    idle.scheduleAfter(m.input.collectAfterMs ?? 0);
  } catch (e) {
    reply({ type: 'failed', seq: m.seq, message: (e as Error).stack ?? String(e) });
  }
}
