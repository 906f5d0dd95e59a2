// Kafka names shared by the engine and the control plane (ARCHITECTURE.md "Names").

/** One Spark-shaped progress event per micro-batch per engine instance; key = query id. */
export const PROGRESS_TOPIC = 'sluice.progress';
/** Commands from the control plane to the engines of a query; key = query id. */
export const CONTROL_TOPIC = 'sluice.control';

/** Records that do not match the declared format/schema, with the reason and source position. */
export function dlqTopic(queryId: string): string {
  return `sluice.${queryId}.dlq`;
}

/** Internal topic that moves rows to the owner of their shuffle partition (Kafka Streams style). */
export function repartitionTopic(queryId: string): string {
  return `sluice.${queryId}.repartition`;
}

/** The consumer group formed by all engine instances of one query. */
export function engineGroupId(queryId: string): string {
  return `sluice-${queryId}`;
}
