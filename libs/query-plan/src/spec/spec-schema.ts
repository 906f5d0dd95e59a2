// zod v4 schema of the spec as users write it (ARCHITECTURE.md "Query spec"), normalising it into
// QuerySpec: durations become milliseconds, defaults are Spark's. The `…Ms` spellings are accepted
// too, so a normalised QuerySpec serialised as JSON compiles to the same spec again.
import { z } from 'zod';
import {
  DEFAULT_SINK_CONNECTION,
  isReservedSinkSchema,
  RESERVED_SINK_SCHEMAS,
  SINK_CONNECTION_NAME,
  SINK_CONNECTION_NAME_HINT,
} from './sink-names';
import {
  COLUMN_TYPES,
  type ColumnType,
  type QuerySpec,
  type SinkSpec,
  type SourceSpec,
  type StartingOffsets,
  type TriggerSpec,
} from '../types';
import { STATEFUL_SOURCE_MAX_BYTES } from '../limits';
import { DURATION_HINT, parseDuration } from './duration';
import { staticTableSchema } from './table-schema';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const identifier = (what: string) =>
  z
    .string()
    .regex(IDENTIFIER, `${what} must start with a letter or _ and contain only letters, digits and _`);
const columnName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_-]*$/,
    'column names must start with a letter or _ and contain only letters, digits, _ and -',
  );
const topicName = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,249}$/,
    'a Kafka topic name is 1-249 characters of letters, digits, ".", "_" and "-"',
  );
const columnType = z.custom<ColumnType>(
  (v) => typeof v === 'string' && (COLUMN_TYPES as readonly string[]).includes(v),
  {
    message: `expected a column type: ${COLUMN_TYPES.join(', ')}`,
  },
);

const duration = z.unknown().transform((value, ctx) => {
  const ms = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});
const millis = z.int().min(0);
const positiveInt = z.int().min(1);

/** "earliest", "latest" or Spark's {"topic":{"partition":offset}} (an object or its JSON text); -2 = earliest, -1 = latest. */
const startingOffsets = z.unknown().transform((value, ctx): StartingOffsets => {
  if (value === 'earliest' || value === 'latest') return value;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      parsed = undefined;
    }
  }
  const offsets: Record<string, Record<string, number>> = {};
  const fail = (message: string): never => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (!isPlainObject(parsed)) return fail('expected "earliest", "latest" or {topic: {partition: offset}}');
  for (const [topic, partitions] of Object.entries(parsed)) {
    if (!isPlainObject(partitions)) return fail(`topic "${topic}" must map partition numbers to offsets`);
    const entries: Record<string, number> = {};
    for (const [partition, offset] of Object.entries(partitions)) {
      if (!/^\d+$/.test(partition)) return fail(`"${partition}" is not a partition number`);
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -2) {
        return fail(`offset of ${topic}/${partition} must be an integer ≥ -2 (-2 = earliest, -1 = latest)`);
      }
      entries[partition] = offset;
    }
    offsets[topic] = entries;
  }
  return offsets;
});

/**
 * A file sink's or file source's directory, relative to the file root the engine is given: at most 8 segments of
 * letters, digits, `.`, `_`, `-`, none of them `.` or `..`, so a query can never write outside that
 * root (an absolute path or a `..` would let any operator overwrite files of the host).
 */
const fileSinkPath = z
  .string()
  .max(200, 'a file sink path has at most 200 characters')
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*){0,7}$/,
    'expected a relative path (at most 8 segments of letters, digits, ., _ and -, each starting with a letter, digit or _; no leading /, no ..)',
  );

/**
 * A file source: a directory relative to the engine's file root (the file sink's pattern, so it
 * can never name anything outside that root), its line format and an optional cap on files per
 * batch (Spark's maxFilesPerTrigger).
 */
const fileSource = z.strictObject({
  path: fileSinkPath,
  format: z.enum(['jsonl', 'csv']),
  maxFilesPerTrigger: z
    .number()
    .int('maxFilesPerTrigger is a whole number')
    .min(1, 'maxFilesPerTrigger is at least 1')
    .max(100_000, 'maxFilesPerTrigger is at most 100000')
    .optional(),
});

const sourceSchema = z
  .strictObject({
    kafka: z.strictObject({ topic: topicName, startingOffsets: startingOffsets.optional() }).optional(),
    file: fileSource.optional(),
    format: z.enum(['json', 'csv', 'raw']).optional(),
    schema: z.record(columnName, columnType).optional(),
    watermark: z
      .strictObject({ column: columnName, delay: duration.optional(), delayMs: millis.optional() })
      .optional(),
  })
  .superRefine((source, ctx) => {
    if ((source.kafka === undefined) === (source.file === undefined))
      ctx.addIssue({
        code: 'custom',
        message: `a source is exactly one of kafka or file${source.kafka ? ' (got both)' : ''}`,
      });
    // One place says how a file's lines decode: file.format.
    if (source.file && source.format !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: 'a file source takes its format from file.format (jsonl or csv); remove format',
      });
    if (
      source.watermark &&
      (source.watermark.delay === undefined) === (source.watermark.delayMs === undefined)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['watermark'],
        message: 'watermark needs a delay, e.g. { column: ts, delay: 10 seconds }',
      });
    }
  })
  .transform((source): SourceSpec => {
    const format = source.file
      ? source.file.format === 'jsonl'
        ? 'json'
        : 'csv'
      : (source.format ?? 'json');
    const columns = {
      format,
      schema: source.schema ?? (format === 'raw' ? { value: 'string' as const } : {}),
    };
    // Neither (already an issue above) reads as an empty topic name, never a crash.
    const spec: SourceSpec = source.file
      ? { file: { ...source.file }, ...columns }
      : {
          kafka: {
            topic: source.kafka?.topic ?? '',
            startingOffsets: source.kafka?.startingOffsets ?? 'latest',
          },
          ...columns,
        };
    if (source.watermark)
      spec.watermark = {
        column: source.watermark.column,
        delayMs: source.watermark.delay ?? source.watermark.delayMs ?? 0,
      };
    return spec;
  });

const keyColumns = z.array(z.string().min(1)).min(1, 'list at least one column');

/**
 * A sink table: an unquoted PostgreSQL identifier (at most 63 bytes, PostgreSQL's NAMEDATALEN - 1),
 * optionally `schema.table`. Whether a connection accepts schema-qualified names is the control
 * plane's call; schemas that belong to PostgreSQL or to the engine's own bookkeeping are never a
 * sink (a sink writing `sluice_engine.sink_commits` could forge exactly-once markers).
 */
const sinkTableName = z
  .string()
  .regex(
    /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    'expected a table name (letters, digits, _; at most 63 characters), optionally schema-qualified',
  )
  .refine(
    (table) => {
      const schema = table.includes('.') ? table.split('.')[0]!.toLowerCase() : undefined;
      return schema === undefined || !isReservedSinkSchema(schema);
    },
    `a sink table cannot live in a reserved schema (${RESERVED_SINK_SCHEMAS.join(', ')}, pg_*)`,
  );

const sinkSchema = z
  .strictObject({
    kafka: z.strictObject({ topic: topicName, key: keyColumns.optional() }).optional(),
    postgres: z
      .strictObject({
        table: sinkTableName,
        key: keyColumns,
        connection: z
          .string()
          .regex(SINK_CONNECTION_NAME, `a sink connection name has ${SINK_CONNECTION_NAME_HINT}`)
          .optional(),
      })
      .optional(),
    file: z
      .strictObject({ path: fileSinkPath, format: z.enum(['jsonl', 'csv', 'parquet']).optional() })
      .optional(),
    console: z.union([z.null(), z.strictObject({})]).optional(),
  })
  .superRefine((sink, ctx) => {
    const kinds = Object.keys(sink).filter(
      (k) => k === 'console' || sink[k as keyof typeof sink] !== undefined,
    );
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `a sink is exactly one of kafka, postgres, file or console${kinds.length > 1 ? ` (got ${kinds.join(', ')})` : ''}`,
      });
  })
  .transform((sink): SinkSpec => {
    if (sink.kafka)
      return {
        kafka: sink.kafka.key
          ? { topic: sink.kafka.topic, key: sink.kafka.key }
          : { topic: sink.kafka.topic },
      };
    if (sink.postgres)
      return {
        postgres: {
          table: sink.postgres.table,
          key: sink.postgres.key,
          connection: sink.postgres.connection ?? DEFAULT_SINK_CONNECTION,
        },
      };
    if (sink.file) return { file: { path: sink.file.path, format: sink.file.format ?? 'jsonl' } };
    return { console: {} };
  });

const triggerSchema = z
  .strictObject({
    processingTime: duration.optional(),
    processingTimeMs: millis.optional(),
    availableNow: z.literal(true).optional(),
    once: z.literal(true).optional(),
  })
  .superRefine((trigger, ctx) => {
    const set = Object.values(trigger).filter((v) => v !== undefined).length;
    if (set !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          'a trigger is exactly one of { processingTime: 2 seconds }, { availableNow: true } or { once: true }',
      });
  })
  .transform((trigger): TriggerSpec => {
    if (trigger.availableNow) return { availableNow: true };
    if (trigger.once) return { once: true };
    return { processingTimeMs: trigger.processingTime ?? trigger.processingTimeMs ?? 0 };
  });

const optionsSchema = z
  .strictObject({
    maxOffsetsPerTrigger: positiveInt.optional(),
    minOffsetsPerTrigger: positiveInt.optional(),
    maxTriggerDelay: duration.optional(),
    maxTriggerDelayMs: millis.optional(),
    numShufflePartitions: z.int().min(1).max(1024).default(8),
    failOnDataLoss: z.boolean().default(true),
    dedupe: z.strictObject({ columns: keyColumns, withinWatermark: z.boolean().optional() }).optional(),
    stateStore: z.enum(['memory', 'lmdb'], { error: 'stateStore is "memory" or "lmdb"' }).optional(),
  })
  .transform((o): QuerySpec['options'] => {
    const options: QuerySpec['options'] = {
      numShufflePartitions: o.numShufflePartitions,
      failOnDataLoss: o.failOnDataLoss,
    };
    if (o.maxOffsetsPerTrigger !== undefined) options.maxOffsetsPerTrigger = o.maxOffsetsPerTrigger;
    if (o.minOffsetsPerTrigger !== undefined) options.minOffsetsPerTrigger = o.minOffsetsPerTrigger;
    const delay = o.maxTriggerDelay ?? o.maxTriggerDelayMs;
    if (delay !== undefined) options.maxTriggerDelayMs = delay;
    if (o.dedupe)
      options.dedupe = o.dedupe.withinWatermark
        ? { columns: o.dedupe.columns, withinWatermark: true }
        : { columns: o.dedupe.columns };
    // Set only when given, so specs without it keep their plan hash.
    if (o.stateStore !== undefined) options.stateStore = o.stateStore;
    return options;
  });

// Bounded here; that the module stays inside the spec's folder is checked at compile time
// (plan/stateful-function.ts) and again where it is loaded.
const statefulSchema = z.strictObject({
  module: z.string().min(1).max(1024),
  source: z
    .string()
    .refine(
      (s) => new TextEncoder().encode(s).length <= STATEFUL_SOURCE_MAX_BYTES,
      `source is at most ${STATEFUL_SOURCE_MAX_BYTES / 1024} KiB`,
    )
    .optional(),
  export: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/, 'export must be a JavaScript identifier'),
  key: keyColumns,
  timeout: z.enum(['none', 'eventTime', 'processingTime']).default('none'),
  stateSchema: z.record(columnName, columnType),
  output: z.record(columnName, columnType),
});

export const querySpecSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
      'a query name is 1-128 characters of letters, digits, ".", "_" and "-", starting with a letter or digit',
    ),
  sources: z.record(identifier('a source name (the table name in SQL)'), sourceSchema),
  tables: z
    .record(
      identifier('a table name (the table name in SQL)'),
      staticTableSchema({ columnName, columnType, duration, tableName: sinkTableName }),
    )
    .optional(),
  sql: z.string().refine((sql) => sql.trim() !== '', 'sql must be a SELECT statement'),
  sink: sinkSchema,
  outputMode: z.enum(['append', 'update', 'complete']).default('append'),
  trigger: triggerSchema.prefault({ processingTimeMs: 0 }),
  options: optionsSchema.prefault({}),
  stateful: statefulSchema.optional(),
}) satisfies z.ZodType<QuerySpec, unknown>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
