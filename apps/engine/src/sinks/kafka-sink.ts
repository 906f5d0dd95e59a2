// Kafka sink: output rows as JSON records (keyed by the spec's key columns) in the batch's
// transaction, with the kafka-group marker.
import type { Message } from 'kafkajs';
import type { Row } from '@sluice/query-plan';
import { kafkaRowGuard, type RowGuard } from '../exec/record-guards';
import { rowKey, toJsonRow, type OutputColumn } from './format-row';
import { kafkaGroupTarget, type Sink, type SinkPrepareContext } from './sink';

export class KafkaSink implements Sink {
  readonly marker = 'kafka-group' as const;
  readonly description: string;
  readonly topics: Array<{ topic: string; numPartitions: number }>;
  guard: RowGuard | undefined;

  constructor(
    private readonly topic: string,
    private readonly key: string[] | undefined,
    private readonly columns: OutputColumn[],
  ) {
    this.description = `KafkaSink[${topic}]`;
    this.topics = [{ topic, numPartitions: 3 }];
  }

  async prepare(ctx: SinkPrepareContext): Promise<void> {
    this.guard = kafkaRowGuard(this.topic, (row) => this.message(row), ctx.maxMessageBytes(this.topic));
  }

  message(row: Row): Message {
    return { key: rowKey(row, this.key) ?? null, value: JSON.stringify(toJsonRow(row, this.columns)) };
  }

  stage(rows: Row[], output: { kafka: Array<{ topic: string; messages: Message[] }> }): void {
    output.kafka.push({ topic: this.topic, messages: rows.map((row) => this.message(row)) });
  }

  /** The topic must exist (the broker may not create topics on demand). */
  async probeWith(listTopics: () => Promise<string[]>): Promise<string | undefined> {
    return (await listTopics()).includes(this.topic)
      ? undefined
      : `sink topic "${this.topic}" does not exist and was not created`;
  }

  commit = kafkaGroupTarget.commit;
  isCommitted = kafkaGroupTarget.isCommitted;

  async close(): Promise<void> {}
}
