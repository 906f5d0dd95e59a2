// Entry point of the progress-ingest worker thread (see ProgressIngestService for why a thread).
import { parentPort, workerData } from 'node:worker_threads';
import type { IngestWorkerConfig, MainToWorker, WorkerToMain } from './ingest-messages';
import { ProgressConsumer } from './progress-consumer';
import { lowerThreadPriority } from '../threads/thread-priority';

const port = parentPort;
if (!port) throw new Error('progress-ingest.worker must run as a worker thread');
// Ingest yields the CPU to the API (threads/thread-priority.ts).
lowerThreadPriority();
const consumer = new ProgressConsumer(workerData as IngestWorkerConfig, (m: WorkerToMain) =>
  port.postMessage(m),
);
port.on('message', (m: MainToWorker) => {
  if (m.type === 'watch') consumer.watch(m.queryIds);
  else if (m.type === 'stop')
    void consumer.stop().finally(() => port.postMessage({ type: 'stopped' } satisfies WorkerToMain));
});
consumer.launch();
