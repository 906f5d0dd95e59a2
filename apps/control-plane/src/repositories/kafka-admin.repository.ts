// kafkajs admin client: cluster checks now, offsets and lag later.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { createKafka, parseBrokers } from '@sluice/kafka';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

@Injectable()
export class KafkaAdminRepository implements OnModuleDestroy {
  readonly admin: Admin;
  private connecting: Promise<void> | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const kafka = createKafka({
      brokers: parseBrokers(config.KAFKA_BROKERS),
      clientId: 'sluice-control-plane',
    });
    this.admin = kafka.admin({ retry: { retries: 0 } });
    this.admin.on(this.admin.events.DISCONNECT, () => {
      this.connecting = undefined;
    });
  }

  private connect(): Promise<void> {
    this.connecting ??= this.admin.connect().catch((e: unknown) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }

  /** The shared admin client, connected. */
  async connected(): Promise<Admin> {
    await this.connect();
    return this.admin;
  }

  async describeCluster(): Promise<{ brokers: number; controller: number | null }> {
    await this.connect();
    const c = await this.admin.describeCluster();
    return { brokers: c.brokers.length, controller: c.controller };
  }

  /**
   * Deletes the topics that exist among `topics` (others are skipped, so a re-run is a no-op).
   * Returns the names deleted.
   */
  async deleteTopicsIfPresent(topics: string[]): Promise<string[]> {
    const admin = await this.connected();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
    return present;
  }

  /** Existing topics whose names start with one of `prefixes`. */
  async topicsWithPrefix(prefixes: string[]): Promise<string[]> {
    const admin = await this.connected();
    return (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.admin.disconnect();
  }
}
