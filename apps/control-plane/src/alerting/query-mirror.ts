// What changed among the live queries since the evaluation thread's last tick, like alert-mirror.ts
// does for alerts. A tick reads every live query as a short version row (the columns the main
// thread needs anyway, plus a hash of the conditions and crash times); the conditions and crash
// times themselves are read again only for the queries whose hash changed, and the thread gets only
// the queries whose row changed and the ids that went (it keeps the others). `lastProgressAt` is not
// in the version: with engines running it moves with every batch, so every query would be re-read
// and handed over every tick; it travels on its own, as numbers (progress-mirror.ts). A query handed
// over carries its last progress as read this tick.
import type { QueryDetail, QueryVersionRow } from './alert-evaluation.repository';
import type { QueryInput } from './evaluation-messages';

export interface QueryDiff {
  /** Queries new or changed since the committed state. */
  readonly upserts: QueryInput[];
  /** Ids of queries handed over before that are gone (deleted, or no longer this cluster's). */
  readonly removed: string[];
  /** Makes this diff the state the next one compares with. */
  commit(): void;
}

const versionOf = (q: QueryVersionRow, detail: string): string =>
  `${q.name}\u0000${q.phase}\u0000${q.desiredState}\u0000${detail}`;

export class QueryMirror {
  private known: Map<string, string> | undefined;
  /** Conditions and crash times by query id, at the hash they were read with. */
  private readonly details = new Map<string, QueryDetail>();

  /** The next diff hands over every query (a new thread, a new leadership). */
  reset(): void {
    this.known = undefined;
  }

  /** Ids of these queries whose conditions and crash times must be read (not held at their hash). */
  missingDetails(rows: readonly QueryVersionRow[]): string[] {
    const out: string[] = [];
    for (const q of rows) if (this.details.get(q.id)?.detail !== q.detail) out.push(q.id);
    return out;
  }

  /** Keeps what `missingDetails` asked for; drops what is held of queries not among `rows`. */
  addDetails(details: readonly QueryDetail[], rows: readonly QueryVersionRow[]): void {
    for (const d of details) this.details.set(d.id, d);
    if (this.details.size > rows.length) {
      const live = new Set(rows.map((q) => q.id));
      for (const id of this.details.keys()) if (!live.has(id)) this.details.delete(id);
    }
  }

  /**
   * The delta from the committed state to `rows` (the evaluating cluster's live queries). A detail
   * read after the version row may be newer than it (the reconciler wrote a crash in between): it
   * is used as it is, under its own hash. A query whose detail could not be read at all (deleted
   * in between) stays as the thread has it: it goes once its version row does, never because of
   * a race (a query dropped for one tick resolves its alerts and fires them again). `progress`:
   * each query's last progress as read this tick (epoch ms; none: never progressed).
   */
  diff(rows: readonly QueryVersionRow[], progress: ReadonlyMap<string, number>): QueryDiff {
    const before = this.known;
    const next = new Map<string, string>();
    const upserts: QueryInput[] = [];
    for (const q of rows) {
      const d = this.details.get(q.id);
      if (!d) {
        const held = before?.get(q.id);
        if (held !== undefined) next.set(q.id, held);
        continue;
      }
      const version = versionOf(q, d.detail);
      next.set(q.id, version);
      if (before?.get(q.id) === version) continue;
      upserts.push({
        id: q.id,
        name: q.name,
        phase: q.phase,
        desiredState: q.desiredState,
        lastProgressAtMs: progress.get(q.id) ?? null,
        conditions: d.conditions,
        crashTimes: d.crashTimes,
      });
    }
    const removed: string[] = [];
    if (before) for (const id of before.keys()) if (!next.has(id)) removed.push(id);
    return {
      upserts,
      removed,
      commit: () => {
        this.known = next;
      },
    };
  }
}
