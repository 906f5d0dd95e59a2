export { createKafka, parseBrokers, type KafkaClientOptions } from './client';
export { ensureTopics, endOffsets } from './topics';
