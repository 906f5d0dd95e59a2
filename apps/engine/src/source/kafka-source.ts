// The Source on Kafka: the engine's two group readers (source topics, repartition topic) and
// the admin client for offsets. Their lifecycle (start, stop) stays with the runner.
import type { Admin } from 'kafkajs';
import { offsetBounds } from '@sluice/kafka';
import type { Bounds } from '../exec/trigger-planner';
import type { Stage } from '../exec/task-runtime';
import type { GroupReader, SourceRecord, TopicPartition } from './group-reader';
import type { Source } from './source';

export class KafkaSource implements Source {
  constructor(
    private readonly admin: Admin,
    private readonly sourceReader: GroupReader,
    private readonly shuffleReader: GroupReader | undefined,
  ) {}

  assignment(stage: Stage): TopicPartition[] {
    return stage === 'source' ? this.sourceReader.assignment() : (this.shuffleReader?.assignment() ?? []);
  }

  bounds(topic: string): Promise<Map<number, Bounds>> {
    return offsetBounds(this.admin, topic);
  }

  read(stage: Stage, topic: string, partition: number, start: number, end: number): Promise<SourceRecord[]> {
    const reader = stage === 'source' ? this.sourceReader : this.shuffleReader;
    if (!reader) throw new Error(`no ${stage} reader: the plan has no shuffle stage`);
    return reader.read(topic, partition, start, end);
  }

  commitPosition(topic: string, partition: number, offset: number): Promise<void> {
    return this.sourceReader.commit([{ topic, partition, offset }]);
  }
}
