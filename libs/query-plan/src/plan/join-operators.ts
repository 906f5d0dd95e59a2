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
