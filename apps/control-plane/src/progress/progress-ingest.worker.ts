// Entry point of the progress-ingest worker thread (see ProgressIngestService for why a thread).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { IngestWorkerConfig, MainToWorker, WorkerToMain } from './ingest-messages';
import { ProgressConsumer } from './progress-consumer';

/**
 * Ingest yields the CPU to the API: on Linux a thread has its own nice value, and this thread's
 * id is readable from /proc/thread-self. Elsewhere (or if not permitted) it keeps the default.
 */
function lowerThreadPriority(niceness: number): void {
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, niceness);
  } catch {
    // not Linux, or not allowed: ingest simply runs at the process's priority
  }
}

const INGEST_NICENESS = 10;
const port = parentPort;
if (!port) throw new Error('progress-ingest.worker must run as a worker thread');
lowerThreadPriority(INGEST_NICENESS);
const consumer = new ProgressConsumer(workerData as IngestWorkerConfig, (m: WorkerToMain) =>
  port.postMessage(m),
);
port.on('message', (m: MainToWorker) => {
  if (m.type === 'watch') consumer.watch(m.queryIds);
  else if (m.type === 'stop')
    void consumer.stop().finally(() => port.postMessage({ type: 'stopped' } satisfies WorkerToMain));
});
consumer.launch();
