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

/**
 * Prefix of the one-partition topics that give a lineage's file sources their owner (the engine
 * appends a hash of the source's path; they hold no records). Deleted with the query.
 */
export function fileSourceTopicPrefix(scope: string): string {
  return `sluice.${scope}.files.`;
}

/** The consumer group formed by all engine instances of one query. */
export function engineGroupId(queryId: string): string {
  return `sluice-${queryId}`;
}

const ENGINE_CLIENT_PREFIX = 'sluice-engine-';

/**
 * The Kafka client id of an engine instance: its consumer group members carry it, so the control
 * plane can tell from the group itself which instances have joined (describeGroups).
 */
export function engineClientId(instance: string): string {
  return `${ENGINE_CLIENT_PREFIX}${instance}`;
}

/** The instance an engine's Kafka client id names; undefined for any other client. */
export function instanceOfClientId(clientId: string): string | undefined {
  return clientId.startsWith(ENGINE_CLIENT_PREFIX) && clientId.length > ENGINE_CLIENT_PREFIX.length
    ? clientId.slice(ENGINE_CLIENT_PREFIX.length)
    : undefined;
}

/**
 * The name a query's checkpoint lineage goes by: its consumer groups, repartition topic,
 * transactional ids, PostgreSQL sink markers and PostgreSQL checkpoint rows are all named after
 * it. Epoch 0 is the query's first checkpoint and keeps the plain query id (the names every
 * query had before upgrades); a `new-checkpoint` upgrade starts epoch 1, 2, … beside the kept
 * old one, so the two never share a marker, a group or a shuffle topic.
 */
export function checkpointScope(queryId: string, epoch = 0): string {
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`invalid checkpoint epoch ${epoch}`);
  return epoch === 0 ? queryId : `${queryId}.c${epoch}`;
}
