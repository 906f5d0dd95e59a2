// What changed among the Alert rows since the last evaluation. The evaluator reads every alert
// row each tick as a version string (one SQL statement, no JSON decoding), compares it with what
// it last handed over, and sends the worker thread only the rows that changed and the ids that
// went; the thread keeps the rest (EvaluationCore's alert table). The changed rows' query names
// are also the groups the notification router must decide again (routing-scope.ts).
//
// The table is PostgreSQL's, not this process's: a row changed by anyone (this evaluator's last
// writes, an acknowledgement, a rule deleted with its alerts) shows up as a change on the next
// read, so the thread's copy is the database's as of the read, and a failed write leaves nothing
// to undo. A diff is committed only once the thread took it (a failed hand-over is diffed again).

/** One Alert row as read: its version (every column the evaluation or routing depends on). */
export interface AlertVersion {
  readonly id: string;
  readonly queryName: string;
  /** Whether the evaluation of this cluster owns it (its rule is this cluster's or every one's). */
  readonly inScope: boolean;
  readonly version: string;
}

export interface AlertDiff<R extends AlertVersion> {
  /** Rows new or changed since the committed state, in scope. */
  readonly changed: R[];
  /** Ids of in-scope rows handed over before that are gone or out of scope now. */
  readonly removed: string[];
  /** Query names of every row that changed, appeared or went (any scope): groups to route. */
  readonly queries: Set<string>;
  /** True when the thread must drop its copy first (nothing committed yet). */
  readonly full: boolean;
  /** Makes this diff the state the next one compares with. */
  commit(): void;
}

export class AlertMirror {
  private known: Map<string, AlertVersion> | undefined;

  /** The next diff is a full one (a new thread, a new leadership). */
  reset(): void {
    this.known = undefined;
  }

  diff<R extends AlertVersion>(rows: readonly R[]): AlertDiff<R> {
    const before = this.known;
    const full = before === undefined;
    const next = new Map<string, AlertVersion>();
    const changed: R[] = [];
    const removed: string[] = [];
    const queries = new Set<string>();
    for (const row of rows) {
      next.set(row.id, row);
      const old = before?.get(row.id);
      if (old && old.version === row.version && old.inScope === row.inScope) continue;
      queries.add(row.queryName);
      if (old) queries.add(old.queryName);
      if (row.inScope) changed.push(row);
      else if (old?.inScope) removed.push(row.id);
    }
    if (before) {
      for (const [id, old] of before) {
        if (next.has(id)) continue;
        queries.add(old.queryName);
        if (old.inScope) removed.push(id);
      }
    }
    return {
      changed,
      removed,
      queries,
      full,
      commit: () => {
        this.known = next;
      },
    };
  }
}
