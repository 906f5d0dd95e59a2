// `npm run bench:crash -- [--kills 20] [--records 200000] [--json]`
// Exactly-once under fire: a producer writes a known sequence (duplicate keys, late and malformed
// records); two queries run with two engine instances each — a stateless filter into Kafka and a
// windowed aggregation into PostgreSQL — while the harness SIGKILLs random instances (restarting
// them), adds a third instance and drains one. The outputs are compared with the exact result
// computed independently here.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, records: { type: 'string', default: '200000' }, seed: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } } });
const KILLS = Number(values.kills);
const RECORDS = Number(values.records);
const log = (m: string): void => {
  if (!values.json) process.stderr.write(`[bench:crash] ${m}\n`);
};

// Deterministic PRNG (mulberry32) so a run can be repeated.
let seed = Number(values.seed) >>> 0;
const random = (): number => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const BASE = Date.UTC(2026, 0, 1);
interface Click { id: number; user_id: string; bytes: number; ts: string }
function record(id: number): string {
  if (id % 997 === 0) return `{"id": ${id}, "user_id": "broken`; // malformed
  // Every 50th record is late: 5 minutes behind its neighbours (no watermark, so it still counts).
  const ms = BASE + id * 20 - (id % 50 === 0 ? 300_000 : 0);
  const c: Click = { id, user_id: `u${id % 500}`, bytes: id % 1000, ts: new Date(ms).toISOString() };
  return JSON.stringify(c);
}

interface Instance { name: string; query: 'filter' | 'agg'; proc: ChildProcess }

async function main(): Promise<void> {
  const config = loadStackConfig();
  await stackUp(log, config);
  const env = stackEnv(config);
  const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-crash' });
  const tag = randomUUID().slice(0, 8);
  const input = `crash-in-${tag}`;
  const output = `crash-out-${tag}`;
  const table = `crash_agg_${tag}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 4 }]);
  await admin.disconnect();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-crash-'));
  const schema = '{ id: long, user_id: string, bytes: long, ts: timestamp }';
  const specs = {
    filter: `name: crash-filter\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\nsql: SELECT id, user_id, bytes FROM clicks WHERE bytes >= 500\nsink:\n  kafka: { topic: ${output} }\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000 }\n`,
    agg: `name: crash-agg\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\nsql: |\n  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(bytes) AS bytes\n  FROM clicks GROUP BY window(ts, '1 minute'), user_id\nsink:\n  postgres: { table: ${table}, key: [window_start, user_id] }\noutputMode: update\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000, numShufflePartitions: 4 }\n`,
  };
  const queryIds = { filter: `crash-filter-${tag}`, agg: `crash-agg-${tag}` };
  for (const q of ['filter', 'agg'] as const) fs.writeFileSync(path.join(dir, `${q}.yaml`), specs[q]);
  const start = (query: 'filter' | 'agg', name: string): Instance => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'apps/engine/src/cli.ts', 'run', '--spec', path.join(dir, `${query}.yaml`), '--checkpoint', path.join(dir, `ckpt-${query}`), '--query-id', queryIds[query], '--instance-id', name, '--brokers', env.KAFKA_BROKERS],
      { cwd: ROOT, env: { ...process.env, ...env, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => log(`${name}: ${d.toString().trim()}`));
    return { name, query, proc };
  };
  const live: Instance[] = [start('filter', 'f-0'), start('filter', 'f-1'), start('agg', 'a-0'), start('agg', 'a-1')];

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let produced = 0;
  const producing = (async () => {
    // Spread the input over the kill schedule so kills land mid-stream.
    const chunk = Math.max(500, Math.ceil(RECORDS / Math.max(20, KILLS * 3)));
    while (produced < RECORDS) {
      const n = Math.min(chunk, RECORDS - produced);
      await producer.send({ topic: input, messages: Array.from({ length: n }, (_, i) => ({ key: `k${(produced + i) % 500}`, value: record(produced + i) })) });
      produced += n;
      await new Promise((r) => setTimeout(r, 300));
    }
  })();

  let kills = 0;
  let extra = 0;
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 1500 + random() * 2500));
    const victim = live[Math.floor(random() * live.length)]!;
    victim.proc.kill('SIGKILL');
    await new Promise((r) => victim.proc.once('exit', r));
    kills++;
    live.splice(live.indexOf(victim), 1, start(victim.query, victim.name));
    log(`kill ${kills}/${KILLS}: ${victim.name}`);
    if (k === Math.floor(KILLS / 3)) {
      live.push(start('agg', `a-extra-${extra++}`));
      log('added an aggregation instance');
    }
    if (k === Math.floor((2 * KILLS) / 3)) {
      const leaving = live.find((i) => i.query === 'filter')!;
      leaving.proc.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => leaving.proc.once('exit', r));
      live.splice(live.indexOf(leaving), 1);
      log(`drained ${leaving.name} (exit ${code})`);
    }
  }
  await producing;
  await producer.disconnect();
  log(`all ${RECORDS} records produced; waiting for the outputs to settle`);

  // Expected results, computed independently of the engine.
  const expectedIds = new Set<number>();
  const expectedAgg = new Map<string, { clicks: number; bytes: number }>();
  for (let id = 0; id < RECORDS; id++) {
    if (id % 997 === 0) continue;
    const c = JSON.parse(record(id)) as Click;
    if (c.bytes >= 500) expectedIds.add(id);
    const ms = Date.parse(c.ts);
    const key = `${new Date(ms - (ms % 60_000)).toISOString()}|${c.user_id}`;
    const e = expectedAgg.get(key) ?? { clicks: 0, bytes: 0 };
    e.clicks++;
    e.bytes += c.bytes;
    expectedAgg.set(key, e);
  }
  const totalValid = [...expectedAgg.values()].reduce((n, e) => n + e.clicks, 0);

  const seen = new Map<number, number>();
  const consumer = kafka.consumer({ groupId: `crash-check-${tag}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: output, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => {
    const id = (JSON.parse(message.value!.toString()) as { id: number }).id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  } });
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  const aggTotal = async (): Promise<number> => Number((await pool.query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${table}`).catch(() => ({ rows: [{ n: '0' }] }))).rows[0]!.n);
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline && (seen.size < expectedIds.size || (await aggTotal()) < totalValid)) await new Promise((r) => setTimeout(r, 1000));
  await new Promise((r) => setTimeout(r, 5000)); // let duplicates, if any, arrive
  await consumer.disconnect();

  let lost = 0;
  let duplicated = 0;
  let wrong = 0;
  for (const id of expectedIds) if (!seen.has(id)) lost++;
  for (const [id, n] of seen) {
    if (!expectedIds.has(id)) wrong++;
    if (n > 1) duplicated += n - 1;
  }
  const rows = await pool.query<{ window_start: Date; user_id: string; clicks: string; bytes: string }>(`SELECT * FROM ${table}`);
  const got = new Map(rows.rows.map((r) => [`${r.window_start.toISOString()}|${r.user_id}`, { clicks: Number(r.clicks), bytes: Number(r.bytes) }]));
  let aggLost = 0;
  let aggWrong = 0;
  for (const [key, e] of expectedAgg) {
    const g = got.get(key);
    if (!g) aggLost++;
    else if (g.clicks !== e.clicks || g.bytes !== e.bytes) aggWrong++;
  }
  for (const key of got.keys()) if (!expectedAgg.has(key)) aggWrong++;
  await pool.end();
  for (const i of live) i.proc.kill('SIGTERM');
  await Promise.all(live.map((i) => new Promise((r) => (i.proc.exitCode !== null ? r(null) : i.proc.once('exit', r)))));

  const result = {
    kills,
    records: RECORDS,
    expected: { filterRows: expectedIds.size, aggregateGroups: expectedAgg.size },
    lost: lost + aggLost,
    duplicated,
    wrong: wrong + aggWrong,
    detail: { filter: { lost, duplicated, wrong }, aggregate: { lostGroups: aggLost, wrongGroups: aggWrong } },
  };
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
  if (result.lost + result.duplicated + result.wrong > 0) process.exitCode = 1;
}

main().catch((e: Error) => {
  process.stderr.write(`bench:crash failed: ${e.message}\n`);
  process.exit(1);
});
