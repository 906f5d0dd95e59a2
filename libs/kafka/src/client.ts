// One place that builds kafkajs clients, so every app gets the same logging and retry settings.
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  /** Receives kafkajs log entries at WARN and above (default: silent). */
  onLog?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  for (const b of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new Error(`invalid broker address "${b}" (expected host:port)`);
  }
  if (brokers.length === 0) throw new Error('no broker address given');
  return brokers;
}

export function createKafka(opts: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    requestTimeout: opts.requestTimeoutMs ?? 30000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!opts.onLog) return;
        const { message, ...extra } = log;
        opts.onLog(level <= logLevel.ERROR ? 'error' : 'warn', String(message), extra);
      },
  };
  return new Kafka(config);
}
