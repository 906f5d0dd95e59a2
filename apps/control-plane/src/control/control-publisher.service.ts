// Publishes commands for engines on `sluice.control` (key = query id), per ARCHITECTURE.md.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import { CONTROL_TOPIC, type ControlCommand } from '@sluice/contracts';
import { createKafka, ensureTopicsWith, parseBrokers } from '@sluice/kafka';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

@Injectable()
export class ControlPublisher implements OnModuleDestroy {
  private producer: Producer | undefined;
  private ready: Promise<Producer> | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private connect(): Promise<Producer> {
    this.ready ??= (async () => {
      const kafka = createKafka({
        brokers: parseBrokers(this.config.KAFKA_BROKERS),
        clientId: 'sluice-control-plane-commands',
      });
      await ensureTopicsWith(kafka, [{ topic: CONTROL_TOPIC, numPartitions: 1 }]);
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async setRateLimit(queryId: string, maxOffsetsPerTrigger: number | null): Promise<string> {
    return this.publish({ type: 'setRateLimit', commandId: randomUUID(), queryId, maxOffsetsPerTrigger });
  }

  async drain(queryId: string, instance?: string, version?: number): Promise<string> {
    return this.publish({
      type: 'drain',
      commandId: randomUUID(),
      queryId,
      ...(instance ? { instance } : {}),
      ...(version ? { version } : {}),
    });
  }

  /** Holds (or releases) the source stage of every instance; see the contract's `pauseSources`. */
  async pauseSources(queryId: string, paused: boolean): Promise<string> {
    return this.publish({
      type: paused ? 'pauseSources' : 'resumeSources',
      commandId: randomUUID(),
      queryId,
    });
  }

  private async publish(command: ControlCommand): Promise<string> {
    const producer = await this.connect();
    await producer.send({
      topic: CONTROL_TOPIC,
      messages: [{ key: command.queryId, value: JSON.stringify(command) }],
    });
    return command.commandId;
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer?.disconnect();
  }
}
