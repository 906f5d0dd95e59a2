// The evaluation thread's garbage, collected between evaluations instead of during them.
//
// The thread allocates only while it evaluates, so V8 starts every collection of its heap inside
// an evaluation: the young generation's scavenges, and every other evaluation a mark-compact with
// tens of ms of incremental marking steps. While idle, V8's memory reducer also shrinks the heap
// back to what is live, so the next evaluation hits the old generation's limit again. Measured
// with bench:alerts (BENCHMARKS.md, "Alert evaluation", 2026-12-05 evening): the thread's own GC
// was 11 ms of a 43 ms computation at the median and 54 ms at p99, and its parallel marking ran on
// V8's helper threads beside the API's requests. A full collection some seconds after each
// evaluation, when neither the evaluation nor the next one runs, leaves the next one a heap with
// room: its GC fell to ~1 ms at the median. The work is moved, not removed (`lastMs` reports it).
//
// V8 offers no collection on request without the `--expose-gc` flag. The flag is set only for the
// moment a fresh context takes the `gc` function from it, then cleared: the process's other
// contexts never see it, and nothing on the command line changes (the control plane keeps no code
// cache whose key the flag would alter; contrast engine-node-flags.ts in libs/query-plan).
import { PerformanceObserver, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * When to collect after an evaluation: clear of its writes, routing and deliveries (which follow
 * the thread's answer for up to ~100 ms), at most halfway to the next evaluation, and within V8's
 * memory reducer's 8 s (heap/memory-reducer.cc kLongDelayMs): a thread idle that long gets a
 * collection that shrinks its heap to what is live, so the next evaluation would run out of room
 * and collect inside again. Measured: at 3 s the next evaluation collected ~0–1 ms at the median, at
 * 5 s (half the default interval) 7 ms (that the reducer came first there is an inference).
 */
export function idleCollectionDelayMs(intervalMs: number): number {
  return Math.round(Math.min(intervalMs / 2, 3000));
}

/** V8's full collection of this thread's heap (synchronous). */
export function fullCollection(): () => void {
  const gc = exposedGc();
  return () => gc();
}

/** V8's young-generation collection (a scavenge) of this thread's heap (synchronous). */
export function minorCollection(): () => void {
  const gc = exposedGc();
  return () => gc({ type: 'minor' });
}

type Gc = (options?: { type: 'minor' | 'major' }) => void;

function exposedGc(): Gc {
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as Gc;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** One full collection `delayMs` after each evaluation, cancelled when the next starts first. */
export class IdleCollection {
  private timer: NodeJS.Timeout | undefined;
  /** How long the last collection took (ms); 0 before the first. */
  lastMs = 0;

  constructor(private readonly collect: () => void = fullCollection()) {}

  /** An evaluation starts: a collection still waiting would land in it. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** An evaluation ended: collect once `delayMs` have passed (0 or less: never). */
  scheduleAfter(delayMs: number): void {
    this.cancel();
    if (!(delayMs > 0)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const t = performance.now();
      this.collect();
      this.lastMs = Math.round(performance.now() - t);
    }, delayMs);
    // A pending collection never keeps the thread (or a test's process) alive.
    this.timer.unref();
  }
}

/**
 * This thread's collections as V8 reports them, to say how much of an interval they took. Node
 * hands `gc` entries to an observer two turns of the event loop after the collection (one to
 * queue them, one to call the observer), so `msWithin` waits for those turns first.
 */
export class CollectionLog {
  private readonly spans: Array<[number, number]> = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.spans.push([e.startTime, e.startTime + e.duration]);
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Milliseconds of collection within [from, to] (performance.now() times); forgets the rest. */
  async msWithin(from: number, to: number): Promise<number> {
    await nextTurn();
    await nextTurn();
    let ms = 0;
    for (const [s, e] of this.spans) ms += Math.max(0, Math.min(e, to) - Math.max(s, from));
    this.spans.length = 0;
    return Math.round(ms);
  }

  close(): void {
    this.observer.disconnect();
  }
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));
