// The sink a spec names, as a Sink (the runner never branches on the sink type).
import type { SinkSpec } from '@sluice/query-plan';
import { createPool } from '../pg/create-pool';
import { ConsoleSink } from './console-sink';
import { FileSink } from './file-sink';
import type { OutputColumn } from './format-row';
import { KafkaSink } from './kafka-sink';
import { PostgresSink } from './postgres-sink';
import type { Sink } from './sink';

export function createSink(args: {
  spec: SinkSpec;
  columns: OutputColumn[];
  /** checkpointScope(queryId, epoch): names the PostgreSQL markers. */
  scope: string;
  deadLetterTopic: string;
  sinkPostgresUrl: string | undefined;
  /** SLUICE_FILE_SINK_ROOT: the folder file sinks' relative paths are resolved in. */
  fileSinkRoot: string | undefined;
  warn: (msg: string) => void;
}): Sink {
  const { spec, columns } = args;
  if ('kafka' in spec) return new KafkaSink(spec.kafka.topic, spec.kafka.key, columns);
  if ('postgres' in spec) {
    if (!args.sinkPostgresUrl)
      throw new Error(
        'the spec has a postgres sink: set SLUICE_SINK_POSTGRES_URL for the engine (the control plane passes the resolved sink connection)',
      );
    const pool = createPool(args.sinkPostgresUrl, 'sink', args.warn);
    const { table, key } = spec.postgres;
    return new PostgresSink(pool, args.scope, table, columns, key, args.deadLetterTopic);
  }
  if ('file' in spec) {
    if (!args.fileSinkRoot)
      throw new Error(
        'the spec has a file sink: set SLUICE_FILE_SINK_ROOT for the engine (the folder its path is relative to; the control plane passes its own setting)',
      );
    return new FileSink(args.fileSinkRoot, spec.file.path, spec.file.format, columns, args.scope);
  }
  return new ConsoleSink(columns);
}
