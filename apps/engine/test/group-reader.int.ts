// GroupReader against the real broker: exact ranges, ranges ending in transaction markers,
// re-reading an earlier range (replay), ownership following Kafka's group assignment, and a
// replacement taking over a SIGKILLed member.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, offsetBounds, parseBrokers } from '@sluice/kafka';
import { GroupMemberFile } from '../src/source/group-member-file';
import { GroupReader, PartitionRevokedError } from '../src/source/group-reader';

let kafka: Kafka;
let admin: Admin;
const cleanup: Array<() => Promise<void>> = [];
/** The readers' session timeout (GroupReader's default). */
const SESSION_MS = 10_000;

beforeAll(async () => {
  kafka = createKafka({
    brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
    clientId: 'engine-group-reader-int',
  });
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  await admin.disconnect();
});

async function startReader(
  topic: string,
  groupId: string,
  onRebalance?: () => void,
  memberFile?: GroupMemberFile,
): Promise<GroupReader> {
  const reader = new GroupReader(kafka, { groupId, topics: [topic], onRebalance, memberFile });
  cleanup.push(() => reader.stop());
  await reader.start();
  await reader.waitForAssignment();
  return reader;
}

describe('GroupReader', () => {
  it('reads exact ranges, including after seeking back to an earlier start', async () => {
    const topic = `it-reader-${randomUUID()}`;
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    const producer = kafka.producer();
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    await producer.send({
      topic,
      messages: Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `v${i}` })),
    });

    const reader = await startReader(topic, `it-reader-${randomUUID()}`);
    expect(reader.assignment()).toEqual([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const first = await reader.read(topic, 0, 0, 10);
    expect(first.map((r) => r.offset)).toEqual([...Array(10).keys()]);
    expect(first[3]?.value?.toString()).toBe('v6');
    const next = await reader.read(topic, 0, 10, 25);
    expect(next.map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => 10 + i));
    // Replay of an uncommitted batch starts over at its planned start.
    const replay = await reader.read(topic, 0, 5, 8);
    expect(replay.map((r) => r.value?.toString())).toEqual(['v10', 'v12', 'v14']);
    expect((await reader.read(topic, 1, 20, 25)).map((r) => r.offset)).toEqual([20, 21, 22, 23, 24]);
  });

  it('completes a range whose last offsets are transaction markers and skips aborted records', async () => {
    const topic = `it-reader-tx-${randomUUID()}`;
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    const producer = kafka.producer({
      transactionalId: `it-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'x' }] });
    await aborted.abort();
    // a, b, marker, x, marker: the last stable offset reaches 5 once the coordinator has written
    // the abort marker (EndTxn returns before that).
    let end = 0;
    while (end < 5) end = (await offsetBounds(admin, topic)).get(0)!.latest;
    expect(end).toBe(5);

    const reader = await startReader(topic, `it-reader-${randomUUID()}`);
    const records = await reader.read(topic, 0, 0, end);
    expect(records.map((r) => r.value?.toString())).toEqual(['a', 'b']);
    expect(await reader.read(topic, 0, 2, end)).toEqual([]);
  });

  it('skips aborted transactions that interleave with others on one partition (kafkajs patch)', async () => {
    // Two source tasks of one killed instance leave two aborted transactions in a repartition
    // partition. The broker lists aborted transactions by where they ended, so P2 (started
    // second, aborted first) comes before P1; unpatched kafkajs then let all of P1 through.
    const topic = `it-reader-interleaved-${randomUUID()}`;
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    const producers = await Promise.all(
      ['p1', 'p2', 'p3'].map(async () => {
        const p = kafka.producer({
          transactionalId: `it-${randomUUID()}`,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await p.connect();
        cleanup.push(() => p.disconnect());
        return p;
      }),
    );
    const [t1, t2, t3] = await Promise.all(producers.map((p) => p.transaction()));
    await t1!.send({ topic, messages: [{ value: 'p1-a' }] }); // offset 0
    await t2!.send({ topic, messages: [{ value: 'p2-a' }] }); // offset 1
    await t3!.send({ topic, messages: [{ value: 'c1' }] }); // offset 2
    await t3!.commit(); // marker 3
    await t2!.abort(); // marker 4
    await t1!.send({ topic, messages: [{ value: 'p1-b' }] }); // offset 5
    await t1!.abort(); // marker 6
    let end = 0;
    while (end < 7) end = (await offsetBounds(admin, topic)).get(0)!.latest;

    const reader = await startReader(topic, `it-reader-${randomUUID()}`);
    expect((await reader.read(topic, 0, 0, end)).map((r) => r.value?.toString())).toEqual(['c1']);
    // A replay that starts inside both aborted transactions sees the same.
    expect((await reader.read(topic, 0, 1, end)).map((r) => r.value?.toString())).toEqual(['c1']);
  });

  it('splits partitions between the members of one group and fails reads of revoked partitions', async () => {
    const topic = `it-reader-group-${randomUUID()}`;
    const groupId = `it-reader-group-${randomUUID()}`;
    await ensureTopics(admin, [{ topic, numPartitions: 4 }]);
    const a = await startReader(topic, groupId);
    expect(a.assignment()).toHaveLength(4);
    const generation = a.generation;
    const b = await startReader(topic, groupId);
    // a learns of the rebalance at its next heartbeat.
    while (a.generation === generation) await new Promise((r) => setTimeout(r, 100));
    const owned = [...a.assignment(), ...b.assignment()].map((tp) => tp.partition).sort();
    expect(owned).toEqual([0, 1, 2, 3]);
    expect(a.assignment()).toHaveLength(2);
    const revoked = b.assignment()[0]!;
    await expect(a.read(topic, revoked.partition, 0, 1)).rejects.toThrow(PartitionRevokedError);
  });

  it("rejoins as a SIGKILLed predecessor's member (its id in the work dir), and as a new member when the id is unknown", async () => {
    const topic = `it-reader-takeover-${randomUUID()}`;
    const groupId = `it-reader-takeover-${randomUUID()}`;
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    // The predecessor: a plain kafkajs member in its own process, whose session (30 s) outlives
    // the SIGKILL, as an engine's does.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { Kafka, logLevel } = require('kafkajs');
        const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), clientId: 'it-predecessor', logLevel: logLevel.NOTHING });
        const c = kafka.consumer({ groupId: process.argv[1], sessionTimeout: 30000, heartbeatInterval: 1000 });
        c.on(c.events.GROUP_JOIN, (e) => console.log('joined ' + e.payload.memberId));
        c.connect().then(() => c.subscribe({ topic: process.argv[2] })).then(() => c.run({ eachMessage: async () => {} }));`,
        groupId,
        topic,
      ],
      { cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    cleanup.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    const predecessor = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /joined (\S+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`predecessor exited (${code}) before joining`)));
    });
    child.kill('SIGKILL');
    await exited;

    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'it-reader-takeover-'));
    cleanup.push(async () => fs.rmSync(workDir, { recursive: true, force: true }));
    const warnings: string[] = [];
    const memberFile = () =>
      new GroupMemberFile(workDir, groupId, (level, m) => {
        if (level === 'warn') warnings.push(m);
      });
    // Written by this process: its pid reads as reused, i.e. the writer is gone.
    memberFile().save(predecessor);
    const reader = await startReader(topic, groupId, undefined, memberFile());
    expect(memberFile().predecessor(SESSION_MS)).toBe(predecessor); // joined as the dead member
    expect(reader.assignment().map((tp) => tp.partition)).toEqual([0, 1]);
    await reader.stop();
    // It left the group: a successor has no member to take over.
    expect(memberFile().predecessor(SESSION_MS)).toBeUndefined();

    // An id the coordinator does not know (it left): a new member id, and the partitions.
    memberFile().save(predecessor);
    const next = await startReader(topic, groupId, undefined, memberFile());
    const joinedAs = memberFile().predecessor(SESSION_MS);
    expect(joinedAs).toBeDefined();
    expect(joinedAs).not.toBe(predecessor);
    expect(next.assignment().map((tp) => tp.partition)).toEqual([0, 1]);
    expect(warnings).toEqual([]);
  });
});
