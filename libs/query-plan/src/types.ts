// Public shapes shared by the control plane and the engine. The spec types are the *normalised*
// spec: durations are milliseconds and defaults are filled in.

/** One problem in a spec file. `path` is like "sink.postgres.key[1]" or "sql"; line/column are 1-based. */
export interface SpecError {
  path: string;
  line: number;
  column: number;
  message: string;
}

export type ColumnType = 'string' | 'long' | 'int' | 'double' | 'boolean' | 'timestamp';

export const COLUMN_TYPES: readonly ColumnType[] = [
  'string',
  'long',
  'int',
  'double',
  'boolean',
  'timestamp',
];

export type StartingOffsets = 'earliest' | 'latest' | Record<string, Record<string, number>>;

/**
 * A directory of JSON-lines or CSV files (Spark's file source): `path` is relative to the engine's
 * file root (SLUICE_FILE_SINK_ROOT, shared with file sinks), never absolute. Each new file is read
 * once and whole; at most `maxFilesPerTrigger` files per batch (unset: every new file).
 */
export interface FileSourceSpec {
  path: string;
  format: 'jsonl' | 'csv';
  maxFilesPerTrigger?: number;
}

interface SourceColumns {
  /** How one record (a Kafka value, a line of a file) decodes; a file source's follows file.format. */
  format: 'json' | 'csv' | 'raw';
  schema: Record<string, ColumnType>;
  watermark?: { column: string; delayMs: number };
}

/** A stream source: exactly one of a Kafka topic or a directory of files. */
export type SourceSpec = SourceColumns &
  (
    | { kafka: { topic: string; startingOffsets: StartingOffsets }; file?: undefined }
    | { file: FileSourceSpec; kafka?: undefined }
  );

/**
 * What a source reads, as one string: the Kafka topic, or `file:<path>` for a file source (the
 * plan's sourceTopics and a stream–stream join's sides are keyed by it).
 */
export function sourceStream(source: SourceSpec): string {
  return source.kafka ? source.kafka.topic : `file:${source.file.path}`;
}

/**
 * A static table a stream may join (stream–static join): a PostgreSQL table read whole by the
 * engine, cached and re-read every `refreshMs` (Spark re-reads the static side each batch).
 */
export interface TableSpec {
  /** The PostgreSQL table (optionally schema-qualified) and the named connection it is read through. */
  table: string;
  connection: string;
  schema: Record<string, ColumnType>;
  refreshMs: number;
  /** Caps on what one read may load; a table over either is an error, never a partial copy. */
  maxRows: number;
  maxBytes: number;
}

/** What the file sink writes: JSON lines, CSV with a header, or Parquet. */
export type FileSinkFormat = 'jsonl' | 'csv' | 'parquet';

export type SinkSpec =
  | { kafka: { topic: string; key?: string[] } }
  | { postgres: { table: string; key: string[]; connection: string } }
  /** `path` is relative to the engine's file-sink root (SLUICE_FILE_SINK_ROOT), never absolute. */
  | { file: { path: string; format: FileSinkFormat } }
  | { console: Record<string, never> };

export type OutputMode = 'append' | 'update' | 'complete';

export type TriggerSpec = { processingTimeMs: number } | { availableNow: true } | { once: true };

export interface QueryOptions {
  maxOffsetsPerTrigger?: number;
  minOffsetsPerTrigger?: number;
  maxTriggerDelayMs?: number;
  /** Fixed for the life of a checkpoint. Default 8. */
  numShufflePartitions: number;
  /** Default true, as in Spark. */
  failOnDataLoss: boolean;
  /**
   * Deduplication on these columns. `withinWatermark`: Spark 3.5's dropDuplicatesWithinWatermark —
   * a key is remembered until the watermark passes its first row's event time + the delay.
   */
  dedupe?: { columns: string[]; withinWatermark?: boolean };
  /**
   * Where the engine keeps the working state (absent = `memory`): a Map per task, or an LMDB
   * environment on local disk for state larger than memory. The checkpoint is the same for both.
   */
  stateStore?: StateStoreKind;
}

/**
 * A stateful function (Spark's flatMapGroupsWithState): `module` (relative to the spec's folder,
 * inside it) exports `export`, called per key with the batch's rows and the key's state.
 */
export interface StatefulFunctionSpec {
  module: string;
  /**
   * The module's code, inline: how the control plane ships it to engines (the spec is what it
   * stores per version and hands to every instance). When set, `module` only names it (its
   * extension says TypeScript or JavaScript) and no file is read.
   */
  source?: string;
  export: string;
  /** Output columns of the SQL that make the key. */
  key: string[];
  timeout: 'none' | 'eventTime' | 'processingTime';
  /** The fields of the state object (compared across upgrades). */
  stateSchema: Record<string, ColumnType>;
  /** The function's output rows. */
  output: Record<string, ColumnType>;
}

export type StateStoreKind = 'memory' | 'lmdb';

export interface QuerySpec {
  name: string;
  sources: Record<string, SourceSpec>;
  /** Static tables the SQL may JOIN; absent when there are none. */
  tables?: Record<string, TableSpec>;
  sql: string;
  sink: SinkSpec;
  outputMode: OutputMode;
  trigger: TriggerSpec;
  options: QueryOptions;
  stateful?: StatefulFunctionSpec;
}

/** A decoded source record or an output row. Timestamps are epoch milliseconds (number). */
export type Row = Record<string, unknown>;
