// When the evaluation asks PostgreSQL to ANALYZE the tables its statements read.
//
// Why: right after a bulk change (the first evaluation inserts an alert for every query that has
// one; a mass incident fires or resolves them all; ~1,000 queries appear at once) the planner
// still holds the old row estimates until autovacuum's next ANALYZE (autovacuum_naptime, 60 s by
// default). With a handful of rows estimated for `Alert` and `Query`, the router's read of the
// firing and resolved alerts was planned as nested loops over 1,000 × 1,000 rows: 128–307 ms in
// the server against 1.2–2.6 ms once analysed (BENCHMARKS.md, bench:alerts, 2026-12-04), and it
// set the evaluation's p99. ANALYZE samples at most 300 × default_statistics_target rows, so
// its cost is bounded (~10 ms for both tables at 1,000 queries); it runs only on a bulk change,
// the small ones are left to autovacuum.

/** A change smaller than this many rows is autovacuum's to notice. */
export const BULK_MIN_ROWS = 100;
/** …and so is one smaller than this share of the rows the table had. */
export const BULK_SHARE = 0.5;

/**
 * Whether `changed` rows against `rowsBefore` is a bulk change (see above). `shares`: the rows
 * seen are one of that many shares of the table (evaluation-shares.ts), so the floor is that
 * share of BULK_MIN_ROWS: a mass change is then seen by every share's pass, and the table is
 * analysed up to once per share over an interval (each ~10 ms of the database's time at 1,000
 * queries), only while a bulk change lasts.
 */
export function isBulkChange(rowsBefore: number, changed: number, shares = 1): boolean {
  return changed >= Math.ceil(BULK_MIN_ROWS / shares) && changed >= BULK_SHARE * rowsBefore;
}

export type AnalyzedTable = 'Alert' | 'Query';

/**
 * Tracks what each tick changed or saw. `Alert` counts the rows the evaluation itself wrote;
 * `Query` rows are written by the API, so a change in the count this leader sees stands for them
 * (starting from 0: a new leader cannot know whether the table was analysed since its last bulk
 * change, so its first evaluation of ≥ BULK_MIN_ROWS queries analyses it once).
 */
export class PlannerStatistics {
  private queriesSeen = 0;

  /** `shares`: what a tick sees is one of that many shares of the tables (see isBulkChange). */
  constructor(private readonly shares = 1) {}

  /** The tables to analyse after this tick's writes. */
  stale(tick: { queries: number; alertsBefore: number; alertsWritten: number }): AnalyzedTable[] {
    const out: AnalyzedTable[] = [];
    if (isBulkChange(tick.alertsBefore, tick.alertsWritten, this.shares)) out.push('Alert');
    if (isBulkChange(this.queriesSeen, Math.abs(tick.queries - this.queriesSeen), this.shares))
      out.push('Query');
    this.queriesSeen = tick.queries;
    return out;
  }

  /** A follower (or a reset) starts over. */
  reset(): void {
    this.queriesSeen = 0;
  }
}
