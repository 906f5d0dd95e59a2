// Row-level stream–static join: the table (as last read by the engine) is indexed once by its
// join keys; each stream row is looked up in the index. Pure: the engine owns reading and
// refreshing the table (apps/engine/src/source/static-table.ts).
import type { ColumnType, Row } from '../types';
import { joinedColumn, type StaticJoinOperator } from '../plan/join-operators';
import { coerceJsonValue } from './coerce';
import { compileExpr, type Evaluator } from './evaluate';

/** A static table ready for lookups: joined-row-shaped rows by their join key. */
export interface StaticTableIndex {
  table: string;
  rows: number;
  byKey: Map<string, Row[]>;
}

export interface StaticJoin {
  table: string;
  /** Raw rows of the table (column → value, as read) → the index this join looks up. */
  index(rows: readonly Row[]): StaticTableIndex;
  /** The joined rows of one stream row: one per match; for a left outer join, the row alone if none. */
  join(row: Row, index: StaticTableIndex): Row[];
}

/**
 * Key of a tuple of join-key values; undefined when one is NULL (SQL: NULL = x is never true, so
 * such a row matches nothing). Numbers of every numeric type print alike (1 and 1.0 are equal).
 */
function keyOf(values: readonly unknown[]): string | undefined {
  for (const v of values) if (v === null || v === undefined) return undefined;
  return JSON.stringify(values);
}

export function staticJoin(op: StaticJoinOperator): StaticJoin {
  const streamKeys = op.streamKeys.map((e) => compileExpr(e));
  const residual: Evaluator | undefined = op.residual ? compileExpr(op.residual) : undefined;
  const columns = op.schema.map((c) => [c.name, joinedColumn(op.table, c.name), c.type] as const);
  const keyColumns = op.tableKeys.map((k) => joinedColumn(op.table, k));
  return {
    table: op.table,
    index(rows) {
      const byKey = new Map<string, Row[]>();
      for (const raw of rows) {
        const row: Row = {};
        for (const [name, qualified, type] of columns) {
          const value = raw[name];
          if (value === null || value === undefined) row[qualified] = null;
          else {
            const coerced = coerceJsonValue(type as ColumnType, value);
            if (!coerced.ok)
              throw new Error(
                `table "${op.table}": column "${name}" holds ${JSON.stringify(value).slice(0, 80)}, expected ${coerced.expected}`,
              );
            row[qualified] = coerced.value;
          }
        }
        const key = keyOf(keyColumns.map((k) => row[k]));
        if (key === undefined) continue;
        const list = byKey.get(key);
        if (list) list.push(row);
        else byKey.set(key, [row]);
      }
      return { table: op.table, rows: rows.length, byKey };
    },
    join(row, index) {
      const key = keyOf(streamKeys.map((k) => k(row)));
      const matches = key === undefined ? undefined : index.byKey.get(key);
      const out: Row[] = [];
      for (const match of matches ?? []) {
        const joined = { ...row, ...match };
        if (!residual || residual(joined) === true) out.push(joined);
      }
      if (out.length === 0 && op.joinType === 'leftOuter') out.push(row);
      return out;
    },
  };
}
