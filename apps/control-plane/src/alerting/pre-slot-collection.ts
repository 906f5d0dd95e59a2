// The main thread's young generation, emptied shortly before each evaluation slot.
//
// The main thread serves the API, and the API's requests fill V8's young generation every ~0.6 s
// (~300 kB each at 40 a second in bench:alerts). An evaluation's reads, writes, gauges and routing
// add ~5 MB on that thread within ~100 ms, so the young generation almost always filled inside the
// evaluation, and that scavenge found the evaluation's temporaries alive and copied them: pauses of
// 9–24 ms that held every API request in flight (the slowest "during" probes of bench:alerts all
// held one). A scavenge just before the slot, while the API's garbage is all that is there, takes
// ~4 ms, and leaves the evaluation an empty young generation (BENCHMARKS.md, "Alert evaluation",
// 2026-12-05/06 night). A scavenge at the slot itself, inside the evaluation, was measured worse
// (the 21:02 run of the 19:32 entry): the pause must come before the window, not in it.
import { performance } from 'node:perf_hooks';
import { minorCollection } from './idle-collection';

/**
 * How long before the slot: later than the collection itself and a timer's lateness on a loaded
 * loop (a few ms), early enough that the API's allocation until the evaluation's main-thread work
 * ends (~250 + 100 ms at ~10 MB/s) plus the evaluation's ~5 MB fit in an ~8 MB young generation.
 */
export const PRE_SLOT_COLLECTION_LEAD_MS = 250;

/** One young-generation collection `leadMs` before each slot it is given. */
export class PreSlotCollection {
  private timer: NodeJS.Timeout | undefined;
  /** How long the last collection took (ms, one decimal); 0 before the first. */
  lastMs = 0;

  constructor(
    private readonly leadMs = PRE_SLOT_COLLECTION_LEAD_MS,
    private readonly collect: () => void = minorCollection(),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Collect `leadMs` before `slotMs` (the `now` clock) if `wanted()` still says so then; replaces
   * a collection still waiting. None when the slot is too close: inside the evaluation's window, the
   * collection would be the pause it is meant to keep out (a timer that fires late skips it too).
   */
  scheduleBefore(slotMs: number, wanted: () => boolean): void {
    this.cancel();
    const delay = slotMs - this.leadMs - this.now();
    if (!(this.leadMs > 0) || delay < 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (slotMs - this.now() < this.leadMs / 2 || !wanted()) return;
      const t = performance.now();
      this.collect();
      this.lastMs = Math.round((performance.now() - t) * 10) / 10;
    }, delay);
    // A waiting collection never keeps the process (or a test's) alive.
    this.timer.unref();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
