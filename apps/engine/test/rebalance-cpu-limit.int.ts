// Issue 20/19's rebalance livelock, on the real stack: CPU-starved engines (a CFS quota through
// the same cgroup code the local runtime uses) catch up a backlog while the group grows from one
// to four members. Before the fix, a batch held the event loop for longer than the session
// timeout, the coordinator expelled its member, the batch was thrown away and re-run larger by the
// next owner, and the group kept rebalancing. Asserted: every record reaches the sink exactly
// once, and the group settles — the number of group generations (counted from each engine's log:
// one line per assignment it received) stays near what four joins need.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@sluice/kafka';
// The very cgroup code the local runtime limits engines with (a test of the engine under it, so
// the engine project reaches into the control plane's here and nowhere else).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { applyCpuLimit, removeCpuGroup } from '../../control-plane/src/runtime/cpu-limit';
import {
  eventually,
  readAll,
  startEngine,
  tempDir,
  testKafka,
  writeSpec,
  type EngineProcess,
} from './support/engine-harness';

const RECORDS = 240_000;
const PARTITIONS = 8;
const ENGINES = 4;
/** Cores per engine: one engine alone needs minutes for the backlog, so it is caught up by the group. */
const CPU_LIMIT = 0.05;

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const engines: Array<{ name: string; proc: EngineProcess; group?: string }> = [];

beforeAll(async () => {
  kafka = testKafka('rebalance-int');
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  for (const e of engines) if (e.proc.child.exitCode === null) e.proc.child.kill('SIGKILL');
  await Promise.all(engines.map((e) => e.proc.exited));
  // The kernel refuses to remove a group while a process is in it; an engine's helper processes
  // (tsx's esbuild service) can outlive it by a moment.
  for (const e of engines) {
    for (let i = 0; e.group && fs.existsSync(e.group) && i < 40; i++) {
      removeCpuGroup(e.group);
      if (fs.existsSync(e.group)) await new Promise((r) => setTimeout(r, 250));
    }
  }
  await producer.disconnect();
  await admin.disconnect();
});

/** Assignments one engine received (the runner logs one line per generation it joins). */
const assignments = (out: string): number =>
  out.split('\n').filter((l) => l.includes('group assignment:')).length;

/** Records of batches a new owner (or the same one) had to start again: work thrown away. */
function reRunRecords(out: string): number {
  let n = 0;
  for (const m of out.matchAll(/re-running uncommitted batch \d+ \[(\d+), (\d+)\)/g))
    n += Number(m[2]) - Number(m[1]);
  return n;
}

describe('rebalancing under CPU limits', () => {
  it('settles while CPU-limited engines join during a catch-up, and writes every record once', async () => {
    const suffix = randomUUID().slice(0, 8);
    const input = `it-rb-in-${suffix}`;
    const output = `it-rb-out-${suffix}`;
    const queryId = `it-rb-${suffix}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: PARTITIONS }]);
    const messages = Array.from({ length: RECORDS }, (_, id) => ({
      key: String(id),
      value: JSON.stringify({ id, user_id: `u${id % 97}`, url: `/p/${id % 13}`, bytes: id % 1000 }),
    }));
    for (let i = 0; i < messages.length; i += 2000)
      await producer.send({ topic: input, messages: messages.slice(i, i + 2000) });

    const dir = tempDir('rebalance');
    const spec = writeSpec(
      dir,
      [
        `name: it-rebalance-${suffix}`,
        'sources:',
        '  clicks:',
        `    kafka: { topic: ${input}, startingOffsets: earliest }`,
        '    format: json',
        '    schema: { id: long, user_id: string, url: string, bytes: long }',
        "sql: SELECT id, upper(user_id) AS user_id, concat(url, '?') AS url, bytes * 2 AS bytes FROM clicks",
        'sink:',
        `  kafka: { topic: ${output} }`,
        'trigger: { processingTime: 100 milliseconds }',
        '',
      ].join('\n'),
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const launch = (name: string): void => {
      const proc = startEngine({ spec, checkpoint, queryId, instance: name });
      const limit = applyCpuLimit(proc.child.pid!, CPU_LIMIT, `it-rebalance-${suffix}-${name}`);
      if (!limit.applied) throw new Error(`the CPU limit could not be applied: ${limit.reason}`);
      engines.push({ name, proc, group: limit.group });
    };
    // Members join one at a time while the backlog is being caught up: each join is a rebalance.
    launch('a');
    await eventually(async () => assignments(engines[0]!.proc.output()) > 0, 240_000, 'engine a assigned');
    for (let i = 1; i < ENGINES; i++) {
      launch(String.fromCharCode(97 + i));
      await eventually(
        async () => assignments(engines[i]!.proc.output()) > 0,
        240_000,
        `engine ${engines[i]!.name} assigned`,
      );
    }

    let rows: Array<{ key: string | null; value: string }> = [];
    try {
      rows = await readAll(kafka, output, RECORDS, 900_000);
    } finally {
      const report = engines.map((e) => ({
        engine: e.name,
        assignments: assignments(e.proc.output()),
        revokedDuringBatch: (e.proc.output().match(/revoked during batch/g) ?? []).length,
        reRuns: (e.proc.output().match(/re-running uncommitted batch/g) ?? []).length,
        reRunRecords: reRunRecords(e.proc.output()),
        expelled: (e.proc.output().match(/not aware of this member/g) ?? []).length,
        exited: e.proc.child.exitCode,
      }));
      const logDir = process.env.SLUICE_TEST_LOG_DIR;
      if (logDir)
        for (const e of engines)
          fs.writeFileSync(path.join(logDir, `rebalance-${suffix}-${e.name}.log`), e.proc.output());
      console.log(`rebalance-cpu-limit: ${JSON.stringify(report)}`);
    }
    const ids = rows.map((r) => (JSON.parse(r.value) as { id: number }).id);
    expect(new Set(ids).size).toBe(RECORDS);
    expect(ids.length).toBe(RECORDS);
    for (const e of engines) expect(e.proc.child.exitCode, e.proc.output().slice(-2000)).toBeNull();
    // Four members joining one by one need 4 + 3 + 2 + 1 = 10 assignments across the engines.
    // Each further rebalance (a member expelled and rejoining) costs every member one more; the
    // bound allows two such (a slow join can split into two rounds) and fails the livelock.
    const ideal = (ENGINES * (ENGINES + 1)) / 2;
    const total = engines.reduce((n, e) => n + assignments(e.proc.output()), 0);
    expect(total).toBeLessThanOrEqual(ideal + 2 * ENGINES);
    // Work thrown away by rebalances: before the fix the whole backlog was one batch that each
    // join discarded (660,137 and 869,468 records re-run for 240,000 in two runs, 17 and 12
    // assignments); with bounded batches and sticky assignment a join discards at most the
    // batches of the few partitions it moves (4,544 records re-run, 10 assignments). Since one
    // transaction carries a trigger's batches, a new owner's fence aborts the old owner's whole
    // trigger: each of the three joins can cost every current member one trigger (at most 1 + 2 + 3
    // triggers), 20,182–45,240 records re-run in four runs (0 and 12,066 with a transaction per
    // task); 23,112, 0, 0 and 23,216 since a recovery fences only a writer whose batch is not committed
    // (the old owner's trigger still holds the moved partition's batch when it is). The bound keeps
    // twice the worst and still fails the livelock by a factor of five.
    const thrownAway = engines.reduce((n, e) => n + reRunRecords(e.proc.output()), 0);
    expect(thrownAway).toBeLessThan(RECORDS / 2);
  }, 1_500_000);
});
