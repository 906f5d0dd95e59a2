// One query's progress events, read from the engines' progress topic while a bench engine runs
// (bench:engine and the windowed profile read their rates from the engine's own progress events).
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { PROGRESS_TOPIC, parseStreamingQueryProgress, type StreamingQueryProgress } from '@sluice/contracts';

export interface ProgressCollector {
  /** Every event of the query so far, in arrival order. */
  readonly events: StreamingQueryProgress[];
  /** Waits for the last events to arrive (the engine produces its final one as it exits), then stops. */
  stop(): Promise<void>;
}

/** Starts reading before the engine starts: the group joins at the topic's end, so nothing earlier is read. */
export async function collectProgress(kafka: Kafka, queryId: string): Promise<ProgressCollector> {
  const events: StreamingQueryProgress[] = [];
  const consumer = kafka.consumer({ groupId: `bench-progress-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: PROGRESS_TOPIC, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() === queryId)
        events.push(parseStreamingQueryProgress(JSON.parse(message.value!.toString())));
    },
  });
  // The group's first join fixes its offsets; an engine started before it could be missed.
  await new Promise((r) => setTimeout(r, 2000));
  return {
    events,
    stop: async () => {
      await new Promise((r) => setTimeout(r, 1500));
      await consumer.disconnect();
    },
  };
}
