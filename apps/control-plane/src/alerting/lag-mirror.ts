// Which lag readings the evaluation thread has not seen yet. The thread keeps each query's last
// reading (its rules read it every tick, its history observes a reading once); a tick packs and
// transfers only the readings newer than the one the thread holds, and names the queries that have
// none any more (not running, or the poll's reading went stale): their lag rules then keep their
// state, as they did when the reading was simply missing from a full hand-over.
import type { LagReading } from '../lag/lag.service';

export interface LagDiff {
  /** Readings the thread does not hold yet. */
  readonly fresh: Map<string, LagReading>;
  /** Queries whose reading the thread must drop. */
  readonly gone: string[];
  commit(): void;
}

export class LagMirror {
  /** readAtMs of the reading the thread holds, by query id. */
  private known: Map<string, number> | undefined;

  /** The next diff hands over every reading (a new thread, a new leadership). */
  reset(): void {
    this.known = undefined;
  }

  diff(lags: ReadonlyMap<string, LagReading>): LagDiff {
    const before = this.known;
    const next = new Map<string, number>();
    const fresh = new Map<string, LagReading>();
    for (const [id, l] of lags) {
      next.set(id, l.readAtMs);
      if (before?.get(id) !== l.readAtMs) fresh.set(id, l);
    }
    const gone: string[] = [];
    if (before) for (const id of before.keys()) if (!next.has(id)) gone.push(id);
    return {
      fresh,
      gone,
      commit: () => {
        this.known = next;
      },
    };
  }
}
