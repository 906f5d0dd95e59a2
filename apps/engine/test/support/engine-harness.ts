// Runs the real engine CLI as child processes against the real broker/PostgreSQL, and reads
// topics back with read_committed consumers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { PROGRESS_TOPIC, parseStreamingQueryProgress, type StreamingQueryProgress } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { engineNodeFlagsOfText } from '@sluice/query-plan';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'apps/engine/src/cli.ts');

export const brokers = (): string => process.env.KAFKA_BROKERS ?? '';
export const testKafka = (clientId: string): Kafka =>
  createKafka({ brokers: parseBrokers(brokers()), clientId });

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sluice-${prefix}-`));
}

export function writeSpec(dir: string, text: string): string {
  const file = path.join(dir, `spec-${randomUUID()}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

export interface EngineProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function runEngineCli(
  args: string[],
  env: Record<string, string> = {},
  nodeFlags: readonly string[] = [],
): EngineProcess {
  // `--import tsx` (not the tsx CLI wrapper): the child *is* the engine, so SIGKILL kills it.
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    // Engine-level tests write PostgreSQL sinks into the test database they read back from; the
    // engine only ever uses the sink URL it is given (the control plane resolves connections).
    env: {
      ...process.env,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      SLUICE_SINK_POSTGRES_URL: process.env.DATABASE_URL ?? '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export function startEngine(o: {
  spec: string;
  checkpoint: string;
  queryId: string;
  instance: string;
  version?: number;
  rateLimit?: number;
  /** --work-dir (an lmdb state store's files); the engine's default when absent. */
  workDir?: string;
  env?: Record<string, string>;
}): EngineProcess {
  return runEngineCli(
    [
      'run',
      '--spec',
      o.spec,
      '--checkpoint',
      o.checkpoint,
      '--query-id',
      o.queryId,
      '--instance-id',
      o.instance,
      '--brokers',
      brokers(),
      '--query-version',
      String(o.version ?? 1),
      ...(o.rateLimit ? ['--rate-limit', String(o.rateLimit)] : []),
      ...(o.workDir ? ['--work-dir', o.workDir] : []),
    ],
    o.env,
    // As the runtimes start it: an lmdb query's engine bounds V8's heap growth (this node knows
    // the flag; the runtimes probe theirs).
    engineNodeFlagsOfText(fs.readFileSync(o.spec, 'utf8')),
  );
}

/**
 * What an engine suite shares: a Kafka client, admin and idempotent producer connected before its
 * tests and closed after them, and the engines it launched, SIGKILLed first so that a failed test
 * leaves none running. Construct it at module level (it registers the suite's hooks).
 */
export class EngineSuite {
  private clients: { kafka: Kafka; admin: Admin; producer: Producer } | undefined;
  private readonly engines: EngineProcess[] = [];

  constructor(
    clientId: string,
    /** Extra environment of every engine the suite launches. */
    private readonly env: Record<string, string> = {},
  ) {
    beforeAll(async () => {
      const kafka = testKafka(clientId);
      const admin = kafka.admin();
      await admin.connect();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.clients = { kafka, admin, producer };
    });
    afterAll(async () => {
      for (const e of this.engines) if (e.child.exitCode === null) e.child.kill('SIGKILL');
      await this.clients?.producer.disconnect();
      await this.clients?.admin.disconnect();
    });
  }

  private ready(): { kafka: Kafka; admin: Admin; producer: Producer } {
    if (!this.clients) throw new Error('EngineSuite used outside its tests (before beforeAll ran)');
    return this.clients;
  }

  get kafka(): Kafka {
    return this.ready().kafka;
  }
  get admin(): Admin {
    return this.ready().admin;
  }
  get producer(): Producer {
    return this.ready().producer;
  }

  launch(o: Parameters<typeof startEngine>[0]): EngineProcess {
    const e = startEngine({ ...o, env: { ...this.env, ...o.env } });
    this.engines.push(e);
    return e;
  }
}

/** Collects one query's progress events from `sluice.progress` (from its beginning) until stopped. */
export async function progressOf(
  kafka: Kafka,
  admin: Admin,
  queryId: string,
): Promise<{ events: StreamingQueryProgress[]; stop: () => Promise<void> }> {
  await ensureTopics(admin, [{ topic: PROGRESS_TOPIC, numPartitions: 3 }]);
  const events: StreamingQueryProgress[] = [];
  const consumer = kafka.consumer({ groupId: `it-progress-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: PROGRESS_TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() === queryId)
        events.push(parseStreamingQueryProgress(JSON.parse(message.value!.toString())));
    },
  });
  return { events, stop: () => consumer.disconnect() };
}

export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Every committed record of `topic` (read_committed, from the beginning). */
export async function readAll(
  kafka: Kafka,
  topic: string,
  expectAtLeast: number,
  timeoutMs = 60_000,
): Promise<Array<{ key: string | null; value: string; partition: number }>> {
  const out: Array<{ key: string | null; value: string; partition: number }> = [];
  // The engine creates its output topics; wait for them instead of racing it.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(async () => (await admin.listTopics()).includes(topic), timeoutMs, `topic ${topic}`);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({
    groupId: `it-reader-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', partition });
    },
  });
  try {
    await eventually(
      async () => out.length >= expectAtLeast,
      timeoutMs,
      `${expectAtLeast} records on ${topic} (have ${out.length})`,
    );
    // A little longer, so duplicates (if any) would show up too.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await consumer.disconnect();
  }
  return out;
}
