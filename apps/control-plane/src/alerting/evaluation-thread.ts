// The alert evaluation's computation in a worker thread of its own. At 1,000 queries × 16
// partitions and 16 rules it is hundreds of milliseconds of CPU per tick (BENCHMARKS.md); on the
// API's event loop it held requests back even when sliced into 4 ms turns, while a thread runs on
// the other core and leaves the loop to the API (the same reasoning as progress ingest's thread).
// The thread starts on the first evaluation (followers never start one) and is started again
// after it failed; a new thread has no history, so `needsStoredHistories` tells the caller to
// send the stored ones.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EvaluationInput, EvaluationOutput, MainToWorker, WorkerToMain } from './evaluation-messages';

/** The worker's file next to this one: .ts when run from source (tests, `npm run`), else .js. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `alert-evaluation.worker${ext}`);
  return { file, execArgv: ext === '.ts' ? ['--require', '@swc-node/register'] : [] };
}

const CLOSE_TIMEOUT_MS = 5000;

interface Pending {
  resolve(m: WorkerToMain): void;
  reject(e: Error): void;
}

export class EvaluationThread {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Whether the thread's histories started from the stored ones (a new thread has none). */
  private loaded = false;

  /** True until an evaluation carrying the stored histories succeeded on the running thread. */
  get needsStoredHistories(): boolean {
    return this.worker === undefined || !this.loaded;
  }

  async evaluate(input: EvaluationInput, transfer: ArrayBuffer[]): Promise<EvaluationOutput> {
    const m = await this.send((seq) => ({ type: 'evaluate', seq, input }), transfer);
    if (m.type === 'failed') throw new Error(`alert evaluation thread: ${m.message}`);
    if (m.type !== 'evaluated') throw new Error(`alert evaluation thread: unexpected reply ${m.type}`);
    if (input.stored) this.loaded = true;
    return m.output;
  }

  /** Drops the histories (a follower keeps none); a thread not running has none to drop. */
  async forget(): Promise<void> {
    this.loaded = false;
    if (!this.worker) return;
    await this.send((seq) => ({ type: 'forget', seq }), []);
  }

  /** Asks the thread to end on its own (it closes its port); terminated only if it does not
   * within CLOSE_TIMEOUT_MS. A thread stopped from outside in the middle of its work is what
   * `terminate()` does, and it is kept for the thread that does not answer. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'close', seq: ++this.seq } satisfies MainToWorker);
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), CLOSE_TIMEOUT_MS).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') await w.terminate();
  }

  private send(message: (seq: number) => MainToWorker, transfer: ArrayBuffer[]): Promise<WorkerToMain> {
    const worker = this.worker ?? this.start();
    const seq = ++this.seq;
    return new Promise<WorkerToMain>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.postMessage(message(seq), transfer);
    });
  }

  private start(): Worker {
    const { file, execArgv } = workerEntry();
    const worker = new Worker(file, { execArgv, env: process.env });
    // The thread never keeps the process alive on its own (the evaluator's interval is unref'd too).
    worker.unref();
    this.worker = worker;
    this.loaded = false;
    worker.on('message', (m: WorkerToMain) => {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      p?.resolve(m);
    });
    const fail = (e: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`alert evaluation thread exited (code ${code})`)));
    return worker;
  }
}
