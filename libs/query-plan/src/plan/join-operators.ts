// Join operators of the logical plan (kept apart from logical-plan.ts: joins are their own module).
import type { Expr } from './expr';

export type JoinType = 'inner' | 'leftOuter';

/**
 * Stream–static join (Spark: a streaming Dataset joined with a static one): every stream row is
 * matched against the static table as last read. Stateless: the stream side drives the output,
 * the static side is re-read every `refreshMs` (spec `tables`). Right after the scan, so WHERE and
 * everything downstream see the joined row.
 *
 * The joined row holds the stream's columns under their own names and the table's under
 * `<table>.<column>` (a column name cannot contain a dot, so these never collide).
 */
export interface StaticJoinOperator {
  id: 'join';
  op: 'staticJoin';
  hash: string;
  joinType: JoinType;
  /** The spec's name of the table (`tables.<name>`), also the prefix of its columns in the joined row. */
  table: string;
  /** Equi-join keys: `streamKeys[i]` (over the stream row) = table column `tableKeys[i]`. */
  streamKeys: Expr[];
  tableKeys: string[];
  /** The rest of the ON condition, over the joined row (absent: none). */
  residual?: Expr;
  /** The table's columns (its spec schema), as read into the cache. */
  schema: Array<{ name: string; type: string }>;
}

/** Name of a table column in the joined row. */
export function joinedColumn(table: string, column: string): string {
  return `${table}.${column}`;
}

/**
 * Stream–stream join (Spark's StreamingSymmetricHashJoinExec): both sources are repartitioned by
 * the equi-join key; each shuffle task keeps the rows of both sides in its state store, joins
 * every new row with the other side's state, and evicts rows no future row can match once the
 * watermark passes them — a left row at time t when the watermark passes t + upperMs, a right
 * row at time t when it passes t - lowerMs (the time range is right.ts ∈ [left.ts + lowerMs,
 * left.ts + upperMs]). A left outer join emits an evicted left row that never matched, with
 * NULL right columns. The right source's columns are `<right>.<column>` in the joined row.
 */
export interface StreamJoinOperator {
  id: 'join';
  op: 'streamJoin';
  hash: string;
  joinType: JoinType;
  /** Source names (spec `sources`); the left is the plan's first scan, the right its second. */
  left: string;
  right: string;
  /** Equi-join keys: leftKeys[i] over a left row = rightKeys[i] over a (prefixed) right row. */
  leftKeys: Expr[];
  rightKeys: Expr[];
  /** The watermarked event-time columns (the right one prefixed) and the range between them. */
  timeRange: { leftColumn: string; rightColumn: string; lowerMs: number; upperMs: number };
  /** Every non-equi part of ON (the time range included), over the joined row. */
  residual?: Expr;
  stateSchema: { key: Array<{ name: string; type: string }>; value: Array<{ name: string; type: string }> };
}
