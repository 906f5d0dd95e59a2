// The `tables` section of a spec: static PostgreSQL tables a stream may JOIN (stream–static join).
// Connections are named as for the PostgreSQL sink (the control plane resolves the name).
import { z } from 'zod';
import {
  STATIC_TABLE_DEFAULT_MAX_BYTES,
  STATIC_TABLE_DEFAULT_MAX_ROWS,
  STATIC_TABLE_DEFAULT_REFRESH_MS,
  STATIC_TABLE_MAX_BYTES,
  STATIC_TABLE_MAX_ROWS,
  STATIC_TABLE_MIN_REFRESH_MS,
} from '../limits';
import type { ColumnType, TableSpec } from '../types';
import { DEFAULT_SINK_CONNECTION, SINK_CONNECTION_NAME, SINK_CONNECTION_NAME_HINT } from './sink-names';

/** The spec schema's own building blocks, passed in so both files share one definition of each. */
export interface TableSchemaParts {
  columnName: z.ZodType<string>;
  columnType: z.ZodType<ColumnType>;
  duration: z.ZodType<number, unknown>;
  tableName: z.ZodType<string>;
}

export function staticTableSchema(parts: TableSchemaParts) {
  return z
    .strictObject({
      table: parts.tableName,
      connection: z
        .string()
        .regex(SINK_CONNECTION_NAME, `a connection name has ${SINK_CONNECTION_NAME_HINT}`)
        .optional(),
      schema: z
        .record(parts.columnName, parts.columnType)
        .refine((schema) => Object.keys(schema).length > 0, 'list at least one column'),
      refresh: parts.duration.optional(),
      refreshMs: z.int().min(0).optional(),
      maxRows: z.int().min(1).max(STATIC_TABLE_MAX_ROWS).optional(),
      maxBytes: z.int().min(1).max(STATIC_TABLE_MAX_BYTES).optional(),
    })
    .superRefine((t, ctx) => {
      const refresh = t.refresh ?? t.refreshMs;
      if (refresh !== undefined && refresh < STATIC_TABLE_MIN_REFRESH_MS)
        ctx.addIssue({
          code: 'custom',
          path: [t.refresh !== undefined ? 'refresh' : 'refreshMs'],
          message: `refresh must be at least ${STATIC_TABLE_MIN_REFRESH_MS / 1000} second(s): each refresh reads the whole table`,
        });
    })
    .transform((t): TableSpec => ({
      table: t.table,
      connection: t.connection ?? DEFAULT_SINK_CONNECTION,
      schema: t.schema,
      refreshMs: t.refresh ?? t.refreshMs ?? STATIC_TABLE_DEFAULT_REFRESH_MS,
      maxRows: t.maxRows ?? STATIC_TABLE_DEFAULT_MAX_ROWS,
      maxBytes: t.maxBytes ?? STATIC_TABLE_DEFAULT_MAX_BYTES,
    }));
}
