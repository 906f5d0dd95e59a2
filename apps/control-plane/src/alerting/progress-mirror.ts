// Which queries' last progress the evaluation thread has not seen yet. With engines running,
// lastProgressAt moves with every batch of every query; it used to be part of a query's version row
// (query-mirror.ts), which then changed every tick for every query, so each tick re-read every
// bucket of version rows as JSON, rebuilt every query's version and handed every query over again
// (bench:alerts --progress-ms, BENCHMARKS.md). Here the stamps are read as (id, ms) pairs and only
// those that moved cross to the thread, as one string array and one transferred Float64Array.
import type { PackedProgress } from './evaluation-messages';

export interface ProgressDiff {
  /** The stamps the thread does not hold, packed (`atMs` is transferred). */
  readonly packed: PackedProgress;
  /** Makes this diff the state the next one compares with. */
  commit(): void;
}

export class ProgressMirror {
  /** The stamp the thread holds, by query id. */
  private known = new Map<string, number>();

  /** The next diff hands over every stamp (a new thread, a new leadership). */
  reset(): void {
    this.known = new Map();
  }

  /**
   * The stamps of `queries` (the evaluating cluster's live queries) that differ from the ones handed
   * over; `stamps` is every live query's as read this tick.
   */
  diff(queries: ReadonlyArray<{ readonly id: string }>, stamps: ReadonlyMap<string, number>): ProgressDiff {
    const changed: string[] = [];
    const values: number[] = [];
    for (const { id } of queries) {
      const at = stamps.get(id);
      if (at === undefined || this.known.get(id) === at) continue;
      changed.push(id);
      values.push(at);
    }
    const atMs = Float64Array.from(values);
    return {
      packed: { ids: changed, atMs },
      commit: () => {
        for (let i = 0; i < changed.length; i++) this.known.set(changed[i]!, values[i]!);
        // Queries that went (deleted, or another cluster's now) are forgotten with them.
        if (this.known.size > queries.length) {
          const live = new Set(queries.map((q) => q.id));
          for (const id of this.known.keys()) if (!live.has(id)) this.known.delete(id);
        }
      },
    };
  }
}
