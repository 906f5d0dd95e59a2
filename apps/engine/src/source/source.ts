// Where a query's input comes from, per stage: the partitions this instance owns, their bounds
// and exact ranges [start, end). The engine reads Kafka (kafka-source.ts: the group protocol
// decides ownership) and directories (file-source.ts); the query test harness reads an in-memory log with the same contract.
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import type { Bounds } from '../exec/trigger-planner';
import type { Stage } from '../exec/task-runtime';
import type { SourceRecord, TopicPartition } from './group-reader';

export interface Source {
  /** Partitions this instance owns now (source topics for stage 1, the repartition topic for stage 2). */
  assignment(stage: Stage): TopicPartition[];
  /** Earliest and latest offset of every partition of a topic. */
  bounds(topic: string): Promise<Map<number, Bounds>>;
  /**
   * Exactly the records of [start, end) (transaction markers and aborted records skipped); a file
   * source's batch is its `files` (the offset log entry's, file-source.ts).
   */
  read(
    stage: Stage,
    topic: string,
    partition: number,
    start: number,
    end: number,
    files?: OffsetLogEntry['files'],
  ): Promise<SourceRecord[]>;
  /**
   * Records the position a stage-1 task reached, for consumer lag when the batch marker lives
   * elsewhere (not part of exactly-once).
   */
  commitPosition(topic: string, partition: number, offset: number): Promise<void>;
}
