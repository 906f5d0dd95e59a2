// `npm run bench:crash -- [--kills 20] [--records 200000] [--json]`
// Exactly-once under fire: a producer writes a known sequence (duplicate keys, late and malformed
// records); two queries run with two engine instances each — a stateless filter into Kafka and a
// windowed aggregation into PostgreSQL — and three with one instance each: a stream–static left
// outer join with a PostgreSQL table into Kafka, session windows per user into PostgreSQL (update
// mode), and a stream–stream inner join of the clicks with a second topic of views into Kafka,
// while the harness SIGKILLs random instances (restarting them), adds an instance and drains
// one. The outputs are compared with the exact result computed independently here.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Consumer, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';
import {
  compareOnce,
  compareRows,
  expectedSessions,
  type SessionInput,
  type SessionRow,
} from './stateful-checks';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    records: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '7' },
    // How long the outputs may take to settle after the last record is produced.
    'settle-seconds': { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  },
});
const KILLS = Number(values.kills);
const RECORDS = Number(values.records);
// Progress goes to stderr in every mode (stdout carries only the result).
const log = (m: string): void => {
  process.stderr.write(`[bench:crash] ${m}\n`);
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
interface Click {
  id: number;
  user_id: string;
  bytes: number;
  ts: string;
}
function record(id: number): string {
  if (id % 997 === 0) return `{"id": ${id}, "user_id": "broken`; // malformed
  const c: Click = { id, user_id: `u${id % 500}`, bytes: id % 1000, ts: clickTs(id) };
  return JSON.stringify(c);
}
/**
 * Every 50th record is late: 5 minutes behind its neighbours (no watermark, so it still counts;
 * the joins' 10 minute watermark delay keeps it). Those are the records of users u0, u50…, all of
 * whose records are late: each user's event times still rise with its ids, in the one Kafka
 * partition its key maps to, so its sessions never merge and the session rows are exact.
 */
function clickTs(id: number): string {
  return new Date(BASE + id * 20 - (id % 50 === 0 ? 300_000 : 0)).toISOString();
}

interface Instance {
  name: string;
  query: Query;
  proc: ChildProcess;
  expectedExit: boolean;
  logFile: string;
  logFrom: number;
}

/**
 * The views topic (the stream–stream join's right side): every third click id is viewed
 * `id % 40` seconds after the click; the join keeps pairs at most 30 s apart.
 */
const VIEW_JOIN_MAX_SECONDS = 30;
const viewOf = (id: number): { id: number; ts: string } | null =>
  id % 3 === 0 ? { id, ts: new Date(Date.parse(clickTs(id)) + (id % 40) * 1000).toISOString() } : null;
const viewJoins = (id: number): boolean => id % 3 === 0 && id % 40 <= VIEW_JOIN_MAX_SECONDS;
/** The session query's gap, and its filter (a click with id % 7 = 0 is left out: a 20 s hole). */
const SESSION_GAP_MS = 15_000;
const inSessions = (id: number): boolean => id % 7 !== 0;

type Query = 'filter' | 'agg' | 'join' | 'session' | 'viewjoin';
/** The join's table: users u0…u498 (u499 is missing: its rows get a NULL tier). */
const tierOf = (user: number): string | null => (user === 499 ? null : `t${user % 7}`);

const exited = (proc: ChildProcess): boolean => proc.exitCode !== null || proc.signalCode !== null;

/** Waits for `proc` to exit; after `graceMs` it is SIGKILLed (an engine that ignores a drain is a finding, not a hang). */
async function waitExit(
  proc: ChildProcess,
  graceMs: number,
): Promise<{ code: number | null; forced: boolean }> {
  if (exited(proc)) return { code: proc.exitCode, forced: false };
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    proc.kill('SIGKILL');
  }, graceMs);
  await new Promise((r) => proc.once('exit', r));
  clearTimeout(timer);
  return { code: proc.exitCode, forced };
}

/**
 * Waits until the broker serves every partition of `topic` (a leader for each). The engines create
 * their output topics; a subscribe that races a topic still being created (or a partition still
 * electing its leader) fails with UNKNOWN_TOPIC_OR_PARTITION, as one CI run's crash test did.
 */
async function topicReady(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch((e: Error) => e);
      if (!(meta instanceof Error) && meta.topics[0]?.partitions.every((p) => p.leader >= 0)) return;
      if (Date.now() > deadline)
        throw new Error(`output topic ${topic} not served after ${timeoutMs / 1000} s: ${String(meta)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Reads `topic` from the start (read committed) into id → times seen and the last row's value. */
async function readOnce<V>(
  kafka: Kafka,
  groupId: string,
  topic: string,
  value: (row: Record<string, unknown>) => V,
): Promise<{ seen: Map<number, { n: number; value: V }>; consumer: Consumer }> {
  const seen = new Map<number, { n: number; value: V }>();
  await topicReady(kafka, topic);
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const row = JSON.parse(message.value!.toString()) as Record<string, unknown>;
      const id = row.id as number;
      seen.set(id, { n: (seen.get(id)?.n ?? 0) + 1, value: value(row) });
    },
  });
  return { seen, consumer };
}

async function main(): Promise<void> {
  const config = loadStackConfig();
  await stackUp(log, config);
  const env = stackEnv(config);
  const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-crash' });
  const tag = randomUUID().slice(0, 8);
  const input = `crash-in-${tag}`;
  const output = `crash-out-${tag}`;
  const table = `crash_agg_${tag}`;
  const joinOutput = `crash-join-out-${tag}`;
  const usersTable = `crash_users_${tag}`;
  const views = `crash-views-${tag}`;
  const sessionTable = `crash_sessions_${tag}`;
  const viewJoinOutput = `crash-viewjoin-out-${tag}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic: input, numPartitions: 4 },
    { topic: views, numPartitions: 4 },
  ]);
  await admin.disconnect();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-crash-'));
  const schema = '{ id: long, user_id: string, bytes: long, ts: timestamp }';
  const specs = {
    filter: `name: crash-filter\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\nsql: SELECT id, user_id, bytes FROM clicks WHERE bytes >= 500\nsink:\n  kafka: { topic: ${output} }\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000 }\n`,
    agg: `name: crash-agg\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\nsql: |\n  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(bytes) AS bytes\n  FROM clicks GROUP BY window(ts, '1 minute'), user_id\nsink:\n  postgres: { table: ${table}, key: [window_start, user_id] }\noutputMode: update\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000, numShufflePartitions: 4 }\n`,
  };
  const join = `name: crash-join\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\ntables:\n  users:\n    table: ${usersTable}\n    schema: { user_id: string, tier: string }\n    refresh: 5 seconds\nsql: |\n  SELECT c.id, u.tier FROM clicks c LEFT JOIN users u ON c.user_id = u.user_id WHERE c.bytes >= 500\nsink:\n  kafka: { topic: ${joinOutput} }\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000 }\n`;
  const session = `name: crash-session\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\nsql: |\n  SELECT user_id, session_window.start AS session_start, session_window.end AS session_end,\n         count(*) AS clicks, sum(bytes) AS bytes\n  FROM clicks WHERE id % 7 <> 0\n  GROUP BY user_id, session_window(ts, '${SESSION_GAP_MS / 1000} seconds')\nsink:\n  postgres: { table: ${sessionTable}, key: [user_id, session_start] }\noutputMode: update\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000, numShufflePartitions: 4 }\n`;
  const viewjoin = `name: crash-viewjoin\nsources:\n  clicks:\n    kafka: { topic: ${input}, startingOffsets: earliest }\n    format: json\n    schema: ${schema}\n    watermark: { column: ts, delay: 10 minutes }\n  views:\n    kafka: { topic: ${views}, startingOffsets: earliest }\n    format: json\n    schema: { id: long, ts: timestamp }\n    watermark: { column: ts, delay: 10 minutes }\nsql: |\n  SELECT c.id, v.ts AS viewed FROM clicks c JOIN views v\n  ON c.id = v.id AND v.ts BETWEEN c.ts AND c.ts + INTERVAL '${VIEW_JOIN_MAX_SECONDS} seconds'\nsink:\n  kafka: { topic: ${viewJoinOutput} }\noutputMode: append\ntrigger: { processingTime: 200 milliseconds }\noptions: { maxOffsetsPerTrigger: 5000, numShufflePartitions: 2 }\n`;
  const queryIds = {
    filter: `crash-filter-${tag}`,
    agg: `crash-agg-${tag}`,
    join: `crash-join-${tag}`,
    session: `crash-session-${tag}`,
    viewjoin: `crash-viewjoin-${tag}`,
  };
  for (const [q, text] of Object.entries({ ...specs, join, session, viewjoin }))
    fs.writeFileSync(path.join(dir, `${q}.yaml`), text);
  const setup = new Pool({ connectionString: env.DATABASE_URL });
  await setup.query(`CREATE TABLE ${usersTable} (user_id text, tier text)`);
  await setup.query(
    `INSERT INTO ${usersTable} SELECT 'u' || i, 't' || (i % 7) FROM generate_series(0, 498) i`,
  );
  await setup.end();
  // Engine logs (pino JSON on stdout, errors on stderr) go to one file per instance name,
  // appended across restarts, so a failed run can be explained afterwards.
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir);
  const unexpectedExits: Array<{ name: string; code: number | null; signal: string | null }> = [];
  const start = (query: Query, name: string): Instance => {
    const logFile = path.join(logDir, `${name}.log`);
    const logFrom = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const out = fs.openSync(logFile, 'a');
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'apps/engine/src/cli.ts',
        'run',
        '--spec',
        path.join(dir, `${query}.yaml`),
        '--checkpoint',
        path.join(dir, `ckpt-${query}`),
        '--query-id',
        queryIds[query],
        '--instance-id',
        name,
        '--brokers',
        env.KAFKA_BROKERS,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          SLUICE_SINK_POSTGRES_URL: env.DATABASE_URL,
          SLUICE_TABLE_POSTGRES_URLS: JSON.stringify({ default: env.DATABASE_URL }),
          KAFKAJS_NO_PARTITIONER_WARNING: '1',
        },
        stdio: ['ignore', out, out],
      },
    );
    fs.closeSync(out);
    const instance: Instance = { name, query, proc, expectedExit: false, logFile, logFrom };
    // An engine that exits on its own is restarted, as the control plane would do, and reported.
    proc.once('exit', (code, signal) => {
      if (instance.expectedExit || finished) return;
      unexpectedExits.push({ name, code, signal });
      log(`${name} exited on its own (code ${code}, signal ${signal}); restarting it`);
      const i = live.indexOf(instance);
      if (i >= 0) live.splice(i, 1, start(query, name));
    });
    return instance;
  };
  let finished = false;
  // A drain is only meaningful once the engine runs (before that, SIGTERM just ends node).
  const waitStarted = async (i: Instance): Promise<void> => {
    const until = Date.now() + 60_000;
    while (Date.now() < until && !exited(i.proc)) {
      const text = fs.readFileSync(i.logFile, 'utf8').slice(i.logFrom);
      if (text.includes('"msg":"engine started"')) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const live: Instance[] = [
    start('filter', 'f-0'),
    start('filter', 'f-1'),
    start('agg', 'a-0'),
    start('agg', 'a-1'),
    start('join', 'j-0'),
    start('session', 's-0'),
    start('viewjoin', 'v-0'),
  ];

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let produced = 0;
  const producing = (async () => {
    // Spread the input over the kill schedule so kills land mid-stream.
    const chunk = Math.max(500, Math.ceil(RECORDS / Math.max(20, KILLS * 3)));
    while (produced < RECORDS) {
      const n = Math.min(chunk, RECORDS - produced);
      const ids = Array.from({ length: n }, (_, i) => produced + i);
      await producer.sendBatch({
        topicMessages: [
          { topic: input, messages: ids.map((id) => ({ key: `k${id % 500}`, value: record(id) })) },
          {
            topic: views,
            messages: ids.flatMap((id) => {
              const v = viewOf(id);
              return v ? [{ key: `k${id % 500}`, value: JSON.stringify(v) }] : [];
            }),
          },
        ],
      });
      produced += n;
      await new Promise((r) => setTimeout(r, 300));
    }
  })();

  let kills = 0;
  let extra = 0;
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 1500 + random() * 2500));
    const victim = live[Math.floor(random() * live.length)]!;
    victim.expectedExit = true;
    victim.proc.kill('SIGKILL');
    await waitExit(victim.proc, 10_000);
    kills++;
    live.splice(live.indexOf(victim), 1, start(victim.query, victim.name));
    log(`kill ${kills}/${KILLS}: ${victim.name}`);
    if (k === Math.floor(KILLS / 3)) {
      live.push(start('agg', `a-extra-${extra++}`));
      log('added an aggregation instance');
    }
    if (k === Math.floor((2 * KILLS) / 3)) {
      const leaving = live.find((i) => i.query === 'filter')!;
      await waitStarted(leaving);
      leaving.expectedExit = true;
      leaving.proc.kill('SIGTERM');
      const { code, forced } = await waitExit(leaving.proc, 60_000);
      live.splice(live.indexOf(leaving), 1);
      if (forced || code !== 0)
        unexpectedExits.push({
          name: leaving.name,
          code,
          signal: forced ? 'SIGKILL after a 60 s drain' : null,
        });
      log(`drained ${leaving.name} (exit ${code}${forced ? ', killed after 60 s' : ''})`);
    }
  }
  await producing;
  await producer.disconnect();
  log(`all ${RECORDS} records produced; waiting for the outputs to settle`);

  // Expected results, computed independently of the engine.
  const expectedIds = new Set<number>();
  const expectedAgg = new Map<string, { clicks: number; bytes: number }>();
  const sessionInput: SessionInput[] = [];
  const expectedViews = new Map<number, number>(); // click id → the view's time (ms)
  for (let id = 0; id < RECORDS; id++) {
    if (id % 997 === 0) continue;
    const c = JSON.parse(record(id)) as Click;
    if (c.bytes >= 500) expectedIds.add(id);
    if (inSessions(id)) sessionInput.push({ user: c.user_id, tsMs: Date.parse(c.ts), bytes: c.bytes });
    if (viewJoins(id)) expectedViews.set(id, Date.parse(viewOf(id)!.ts));
    const ms = Date.parse(c.ts);
    const key = `${new Date(ms - (ms % 60_000)).toISOString()}|${c.user_id}`;
    const e = expectedAgg.get(key) ?? { clicks: 0, bytes: 0 };
    e.clicks++;
    e.bytes += c.bytes;
    expectedAgg.set(key, e);
  }
  const totalValid = [...expectedAgg.values()].reduce((n, e) => n + e.clicks, 0);
  const expectedSessionRows = expectedSessions(sessionInput, SESSION_GAP_MS);

  // Each Kafka output, read committed: id → times seen and the value of the last.
  const filterOut = await readOnce(kafka, `crash-check-${tag}`, output, () => true);
  const joinOut = await readOnce(
    kafka,
    `crash-check-join-${tag}`,
    joinOutput,
    (r) => r.tier as string | null,
  );
  const viewJoinOut = await readOnce(kafka, `crash-check-viewjoin-${tag}`, viewJoinOutput, (r) =>
    new Date(r.viewed as string).getTime(),
  );
  const seen = filterOut.seen;
  const joined = joinOut.seen;
  const viewJoined = viewJoinOut.seen;
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  const clicksIn = async (t: string): Promise<number> =>
    Number(
      (
        await pool
          .query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${t}`)
          .catch(() => ({ rows: [{ n: '0' }] }))
      ).rows[0]!.n,
    );
  const aggTotal = () => clicksIn(table);
  const deadline = Date.now() + Number(values['settle-seconds']) * 1000;
  let settled = false;
  while (Date.now() < deadline) {
    if (
      seen.size >= expectedIds.size &&
      joined.size >= expectedIds.size &&
      viewJoined.size >= expectedViews.size &&
      (await aggTotal()) >= totalValid &&
      (await clicksIn(sessionTable)) >= sessionInput.length
    ) {
      settled = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (!settled)
    log(
      `outputs did not settle in ${values['settle-seconds']} s: filter ${seen.size}/${expectedIds.size} ids, join ${joined.size}/${expectedIds.size} ids, view join ${viewJoined.size}/${expectedViews.size} ids, aggregate ${await aggTotal()}/${totalValid} clicks, sessions ${await clicksIn(sessionTable)}/${sessionInput.length} clicks`,
    );
  await new Promise((r) => setTimeout(r, 5000)); // let duplicates, if any, arrive
  for (const o of [filterOut, joinOut, viewJoinOut]) await o.consumer.disconnect();
  const filter = compareOnce(new Map([...expectedIds].map((id) => [id, true])), seen, (x, y) => x === y);
  const joinCheck = compareOnce(
    new Map([...expectedIds].map((id) => [id, tierOf(id % 500)])),
    joined,
    (x, y) => x === y,
  );
  const viewJoin = compareOnce(expectedViews, viewJoined, (x, y) => x === y);
  const rows = await pool.query<{ window_start: Date; user_id: string; clicks: string; bytes: string }>(
    `SELECT * FROM ${table}`,
  );
  const got = new Map(
    rows.rows.map((r) => [
      `${r.window_start.toISOString()}|${r.user_id}`,
      { clicks: Number(r.clicks), bytes: Number(r.bytes) },
    ]),
  );
  let aggLost = 0;
  let aggWrong = 0;
  const wrongSamples: string[] = [];
  for (const [key, e] of expectedAgg) {
    const g = got.get(key);
    if (!g) aggLost++;
    else if (g.clicks !== e.clicks || g.bytes !== e.bytes) {
      aggWrong++;
      if (wrongSamples.length < 5)
        wrongSamples.push(`${key}: ${g.clicks} clicks/${g.bytes} bytes, expected ${e.clicks}/${e.bytes}`);
    }
  }
  for (const key of got.keys()) if (!expectedAgg.has(key)) aggWrong++;
  const sessionRows = await pool.query<{
    user_id: string;
    session_start: Date;
    session_end: Date;
    clicks: string;
    bytes: string;
  }>(`SELECT user_id, session_start, session_end, clicks, bytes FROM ${sessionTable}`);
  const sessions = compareRows<SessionRow>(
    expectedSessionRows,
    new Map(
      sessionRows.rows.map((r) => [
        `${r.user_id}|${r.session_start.toISOString()}`,
        { clicks: Number(r.clicks), bytes: Number(r.bytes), endMs: r.session_end.getTime() },
      ]),
    ),
    (a, b) => a.clicks === b.clicks && a.bytes === b.bytes && a.endMs === b.endMs,
    (r) => `${r.clicks} clicks/${r.bytes} bytes until ${new Date(r.endMs).toISOString()}`,
  );
  await pool.query(`DROP TABLE IF EXISTS ${usersTable}`);
  await pool.end();
  finished = true;
  for (const i of live) {
    i.expectedExit = true;
    i.proc.kill('SIGTERM');
  }
  const drains = await Promise.all(
    live.map(async (i) => ({ name: i.name, ...(await waitExit(i.proc, 60_000)) })),
  );
  for (const d of drains)
    if (d.forced || d.code !== 0)
      unexpectedExits.push({
        name: d.name,
        code: d.code,
        signal: d.forced ? 'SIGKILL after a 60 s drain' : null,
      });

  const result = {
    kills,
    records: RECORDS,
    expected: {
      filterRows: expectedIds.size,
      aggregateGroups: expectedAgg.size,
      sessions: expectedSessionRows.size,
      viewJoinRows: expectedViews.size,
    },
    lost: filter.lost + aggLost + joinCheck.lost + viewJoin.lost + sessions.lost,
    duplicated: filter.duplicated + joinCheck.duplicated + viewJoin.duplicated,
    wrong: filter.wrong + aggWrong + joinCheck.wrong + viewJoin.wrong + sessions.wrong,
    settled,
    unexpectedExits,
    detail: {
      filter,
      join: joinCheck,
      aggregate: { lostGroups: aggLost, wrongGroups: aggWrong, wrongSamples },
      viewJoin,
      sessions: {
        lostSessions: sessions.lost,
        wrongSessions: sessions.wrong,
        wrongSamples: sessions.samples,
      },
    },
    logs: logDir,
  };
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
  // An engine that exits on its own is restarted (as the control plane does) and reported, but
  // only wrong output or outputs that never settle fail the run.
  if (unexpectedExits.length > 0) log(`engines that exited on their own: ${JSON.stringify(unexpectedExits)}`);
  if (result.lost + result.duplicated + result.wrong > 0 || !settled) {
    process.stderr.write(`bench:crash: FAILED; engine logs are in ${logDir}\n`);
    process.exitCode = 1;
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:crash failed: ${e.message}\n`);
  process.exit(1);
});
