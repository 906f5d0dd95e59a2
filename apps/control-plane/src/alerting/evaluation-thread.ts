// The alert evaluation's computation in a worker thread. At 1,000 queries × 16 partitions and 16
// rules it is hundreds of milliseconds of CPU per tick (BENCHMARKS.md); on the API's event loop
// it held requests back even when sliced into 4 ms turns, while a thread runs on the other core
// and leaves the loop to the API (the same reasoning as progress ingest's thread).
//
// One thread per process, started on the first evaluation (a follower never starts one) and
// started again after a failure; each evaluation share owns a core of its own in it (tests run
// several control planes in one process). The thread is never ended while the process runs: it is
// unref'd, and closing an evaluator drops its shares' cores. Ending a thread while another one was loading
// its TypeScript (@swc-node/register's native binding) crashed the whole process (reproduced in a
// Vitest fork: close one thread while a second starts), and a leader change in one process does
// exactly that (a bundled worker loads no TypeScript, but the source fallback still does). A new
// thread has no history, so `needsStoredHistories` tells the caller to send
// the stored ones.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import type { EvaluationInput, EvaluationOutput, MainToWorker, WorkerToMain } from './evaluation-messages';
import { bundleOnce } from '../build/bundle-cache';

const logger = new Logger('EvaluationThread');

/** How a thread was started: from the prebuilt bundle, from TypeScript source, or compiled JS. */
export type ThreadSource = 'bundle' | 'source' | 'compiled';

/**
 * The worker's file next to this one: compiled .js as it is; run from source (tests, `npm run`),
 * the prebuilt bundle of the .ts entry in `bundleDir` (build/bundle-cache.ts), or the .ts itself
 * through @swc-node/register when no bundle can be had (no esbuild, a failed build).
 */
async function workerEntry(
  bundleDir: string,
): Promise<{ file: string; execArgv: string[]; source: ThreadSource }> {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `alert-evaluation.worker${ext}`);
  if (ext !== '.ts') return { file, execArgv: [], source: 'compiled' };
  try {
    const bundle = await bundleOnce({ entry: file, dir: bundleDir, name: 'alert-evaluation.worker' });
    return { file: bundle.file, execArgv: [], source: 'bundle' };
  } catch (e) {
    logger.warn(`alert evaluation thread runs from source (no bundle: ${(e as Error).message})`);
    return { file, execArgv: ['--require', '@swc-node/register'], source: 'source' };
  }
}

interface Pending {
  resolve(m: WorkerToMain): void;
  reject(e: Error): void;
}

/** The process's evaluation thread. */
class SharedThread {
  private static current: SharedThread | undefined;
  private static starting: Promise<SharedThread> | undefined;
  private static generations = 0;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  readonly generation = ++SharedThread.generations;
  private readonly worker: Worker;
  readonly source: ThreadSource;

  /** The running thread, or a new one (started once however many evaluators ask at once). */
  static async get(bundleDir: string): Promise<SharedThread> {
    if (SharedThread.current) return SharedThread.current;
    SharedThread.starting ??= workerEntry(bundleDir)
      .then((entry) => (SharedThread.current = new SharedThread(entry)))
      .finally(() => (SharedThread.starting = undefined));
    return SharedThread.starting;
  }

  static running(): SharedThread | undefined {
    return SharedThread.current;
  }

  private constructor(entry: { file: string; execArgv: string[]; source: ThreadSource }) {
    const { file, execArgv } = entry;
    this.source = entry.source;
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

  /** `bundleDir`: where the worker's prebuilt bundle is kept (the control plane's SLUICE_HOME). */
  constructor(private readonly bundleDir: string) {}

  /** How the process's thread was started (undefined: none running). */
  static runningSource(): ThreadSource | undefined {
    return SharedThread.running()?.source;
  }
  /** The thread generation whose core holds this evaluator's stored histories (0: none). */
  private loadedGeneration = 0;

  /** True until an evaluation carrying the stored histories succeeded on the running thread. */
  get needsStoredHistories(): boolean {
    return SharedThread.running()?.generation !== this.loadedGeneration;
  }

  async evaluate(input: EvaluationInput, transfer: ArrayBuffer[]): Promise<EvaluationOutput> {
    const thread = await SharedThread.get(this.bundleDir);
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
    // Closing must not fail the shutdown; a forget that fails leaves this owner's state in a thread
    // that ends with the process anyway, but say so.
    await this.forget().catch((e: Error) =>
      logger.warn(`alert evaluation thread: forgetting this evaluator's state at close failed: ${e.message}`),
    );
  }
}
