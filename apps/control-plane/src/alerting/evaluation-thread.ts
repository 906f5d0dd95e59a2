// The alert evaluation's computation in a worker thread. At 1,000 queries × 16 partitions and 16
// rules it is hundreds of milliseconds of CPU per tick (BENCHMARKS.md); on the API's event loop
// it held requests back even when sliced into 4 ms turns, while a thread runs on the other core
// and leaves the loop to the API (the same reasoning as progress ingest's thread).
//
// One thread per process, started on the first evaluation (a follower never starts one) and
// started again after a failure; each evaluator owns a core of its own in it (tests run several
// control planes in one process). The thread is never ended while the process runs: it is
// unref'd, and closing an evaluator drops its core. Ending a thread while another one was loading
// its TypeScript (@swc-node/register's native binding) crashed the whole process (reproduced in a
// Vitest fork: close one thread while a second starts), and a leader change in one process does
// exactly that. A new thread has no history, so `needsStoredHistories` tells the caller to send
// the stored ones.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EvaluationInput, EvaluationOutput, MainToWorker, WorkerToMain } from './evaluation-messages';

/** The worker's file next to this one: .ts when run from source (tests, `npm run`), else .js. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `alert-evaluation.worker${ext}`);
  return { file, execArgv: ext === '.ts' ? ['--require', '@swc-node/register'] : [] };
}

interface Pending {
  resolve(m: WorkerToMain): void;
  reject(e: Error): void;
}

/** The process's evaluation thread. */
class SharedThread {
  private static current: SharedThread | undefined;
  private static generations = 0;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  readonly generation = ++SharedThread.generations;
  private readonly worker: Worker;

  static get(): SharedThread {
    return (SharedThread.current ??= new SharedThread());
  }

  static running(): SharedThread | undefined {
    return SharedThread.current;
  }

  private constructor() {
    const { file, execArgv } = workerEntry();
    const worker = new Worker(file, { execArgv, env: process.env });
    // The thread never keeps the process alive on its own (the evaluator's interval is unref'd too).
    worker.unref();
    this.worker = worker;
    worker.on('message', (m: WorkerToMain) => {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      p?.resolve(m);
    });
    const fail = (e: Error) => {
      if (SharedThread.current === this) SharedThread.current = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`alert evaluation thread exited (code ${code})`)));
  }

  send(message: (seq: number) => MainToWorker, transfer: ArrayBuffer[]): Promise<WorkerToMain> {
    const seq = ++this.seq;
    return new Promise<WorkerToMain>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage(message(seq), transfer);
    });
  }
}

export class EvaluationThread {
  private readonly owner = randomUUID();
  /** The thread generation whose core holds this evaluator's stored histories (0: none). */
  private loadedGeneration = 0;

  /** True until an evaluation carrying the stored histories succeeded on the running thread. */
  get needsStoredHistories(): boolean {
    return SharedThread.running()?.generation !== this.loadedGeneration;
  }

  async evaluate(input: EvaluationInput, transfer: ArrayBuffer[]): Promise<EvaluationOutput> {
    const thread = SharedThread.get();
    const m = await thread.send((seq) => ({ type: 'evaluate', seq, owner: this.owner, input }), transfer);
    if (m.type === 'failed') throw new Error(`alert evaluation thread: ${m.message}`);
    if (m.type !== 'evaluated') throw new Error(`alert evaluation thread: unexpected reply ${m.type}`);
    if (input.stored) this.loadedGeneration = thread.generation;
    return m.output;
  }

  /** Drops this evaluator's histories (a follower keeps none); no thread running holds none. */
  async forget(): Promise<void> {
    this.loadedGeneration = 0;
    const thread = SharedThread.running();
    if (thread) await thread.send((seq) => ({ type: 'forget', seq, owner: this.owner }), []);
  }

  /** The evaluator is closing: its core goes, the thread stays (see the top of this file). */
  async close(): Promise<void> {
    await this.forget().catch(() => undefined);
  }
}
