export { createKafka, parseBrokers, type KafkaClientOptions } from './client';
export { ensureTopics, ensureTopicsWith, endOffsets } from './topics';
export { committedGroupOffsets, offsetBounds, type CommittedOffset, type OffsetBounds } from './offsets';
export { startGenerator, type GeneratorOptions, type RunningGenerator } from './load-generator';
