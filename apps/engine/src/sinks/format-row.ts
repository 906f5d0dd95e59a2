// Rows carry timestamps as epoch milliseconds; sinks show them as ISO-8601 strings (Kafka JSON)
// or timestamptz (PostgreSQL), driven by the plan's output schema.
import type { ColumnType, Row } from '@sluice/query-plan';

export interface OutputColumn {
  name: string;
  type: ColumnType;
}

export function toJsonRow(row: Row, columns: OutputColumn[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    out[c.name] = c.type === 'timestamp' && typeof v === 'number' ? new Date(v).toISOString() : (v ?? null);
  }
  return out;
}

/** Stable record key from the sink key columns (JSON array), or undefined without keys. */
export function rowKey(row: Row, keyColumns: string[] | undefined): string | undefined {
  if (!keyColumns || keyColumns.length === 0) return undefined;
  return JSON.stringify(keyColumns.map((k) => row[k] ?? null));
}
