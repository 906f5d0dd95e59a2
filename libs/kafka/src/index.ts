export { createKafka, parseBrokers, type KafkaClientOptions } from './client';
export { ensureTopics, endOffsets } from './topics';
export { committedGroupOffsets, offsetBounds, type CommittedOffset, type OffsetBounds } from './offsets';
export { startGenerator, type GeneratorOptions, type RunningGenerator } from './load-generator';
