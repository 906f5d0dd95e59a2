// Listens on `sluice.control` for this query's commands. Each instance uses its own consumer
// group so every instance sees every command; commands are queued and applied by the trigger
// loop between batches, then acknowledged in the next progress event.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { CONTROL_TOPIC, parseControlCommand, type ControlCommand } from '@sluice/contracts';

export class ControlListener {
  private consumer: Consumer | undefined;
  private readonly pending: ControlCommand[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly queryId: string,
    private readonly instance: string,
    private readonly version: number,
    private readonly log: (msg: string) => void,
    private readonly onCommand: () => void,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `sluice-${this.queryId}-control-${this.instance}-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 200,
    });
    this.consumer = consumer;
    // A fresh group resets to "latest" only at its first fetch, after joining, seconds after this
    // instance may already report progress: a command sent in between would be skipped. Reading
    // from the end offsets as they are now closes that gap (the control plane also re-sends an
    // unacknowledged command).
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(CONTROL_TOPIC).finally(() => admin.disconnect());
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (joined) return; // a later rejoin resumes from the group's own committed offsets
      joined = true;
      for (const { partition, offset } of ends) consumer.seek({ topic: CONTROL_TOPIC, partition, offset });
    });
    await consumer.connect();
    await consumer.subscribe({ topic: CONTROL_TOPIC, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString('utf8') !== this.queryId) return;
        try {
          const command = parseControlCommand(JSON.parse(message.value?.toString('utf8') ?? 'null'));
          if (
            command.type === 'drain' &&
            ((command.instance !== undefined && command.instance !== this.instance) ||
              (command.version !== undefined && command.version !== this.version))
          )
            return;
          this.pending.push(command);
          this.onCommand();
        } catch (err) {
          this.log(`ignored control message at offset ${message.offset}: ${(err as Error).message}`);
        }
      },
    });
  }

  /** Commands received since the last call, in arrival order. */
  take(): ControlCommand[] {
    return this.pending.splice(0, this.pending.length);
  }

  async stop(): Promise<void> {
    // Stopping: commands not yet taken are lost with this instance, whose group is its own; the
    // control plane re-sends what an instance has not acknowledged.
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
