// AlertEvaluationRepository on the real database: the version rows a tick reads move exactly when
// what the evaluation depends on moved (a progress write moves the query's lastProgressAt, not its
// detail hash; a condition change moves the hash; an acknowledgement moves the alert's version),
// the changed rows come back whole, rules follow the cluster, histories round-trip as JSON chunks.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluationRepository } from '../src/alerting/alert-evaluation.repository';
import { loadAppConfig } from '../src/config/app-config';
import { PrismaRepository } from '../src/repositories/prisma.repository';
import { VersionBuckets, type BucketRead } from '../src/alerting/version-buckets';
import { shareOfId } from '../src/alerting/evaluation-shares';

const url = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
const run = randomUUID().slice(0, 8);
const cluster = `eval-repo-${run}`;
let db: Client;
let prisma: PrismaRepository;
let repo: AlertEvaluationRepository;
const queryId = randomUUID();
const otherQueryId = randomUUID();
const ruleIds: string[] = [];

beforeAll(async () => {
  db = new Client({ connectionString: url });
  await db.connect();
  prisma = new PrismaRepository(loadAppConfig({ ...process.env, DATABASE_URL: url }));
  repo = new AlertEvaluationRepository(prisma);
  await db.query(
    `INSERT INTO "Query" (id, name, "desiredState", phase, cluster, "updatedAt")
     VALUES ($1, $2, 'RUNNING', 'RUNNING', $3, now()), ($4, $5, 'STOPPED', 'STOPPED', 'elsewhere', now())`,
    [queryId, `eval-repo-q-${run}`, cluster, otherQueryId, `eval-repo-o-${run}`],
  );
  for (const [name, ruleCluster] of [
    [`EvalRepoMine-${run}`, cluster],
    [`EvalRepoOther-${run}`, 'elsewhere'],
  ] as const) {
    const r = await db.query<{ id: string }>(
      `INSERT INTO "AlertRule" (id, name, kind, params, "forSeconds", severity, annotations, cluster, "updatedAt", "updatedBy")
       VALUES (gen_random_uuid(), $1, 'timeLag', '{"thresholdSeconds": 60}', 30, 'warning', '{}', $2, now(), 'test')
       RETURNING id`,
      [name, ruleCluster],
    );
    ruleIds.push(r.rows[0]!.id);
  }
});

afterAll(async () => {
  await db.query(`DELETE FROM "AlertQueryHistory" WHERE "queryId" = ANY($1::uuid[])`, [
    [queryId, otherQueryId],
  ]);
  await db.query(`DELETE FROM "AlertRule" WHERE id = ANY($1::uuid[])`, [ruleIds]);
  await db.query(`DELETE FROM "Query" WHERE id = ANY($1::uuid[])`, [[queryId, otherQueryId]]);
  await db.end();
  await prisma.$disconnect();
});

describe('AlertEvaluationRepository', () => {
  it("reads the cluster's rules and those of every cluster, not another cluster's", async () => {
    const names = (await repo.rules(cluster)).map((r) => r.name);
    expect(names).toContain(`EvalRepoMine-${run}`);
    expect(names).not.toContain(`EvalRepoOther-${run}`);
    const mine = (await repo.rules(cluster)).find((r) => r.name === `EvalRepoMine-${run}`)!;
    expect(mine).toMatchObject({ kind: 'timeLag', params: { thresholdSeconds: 60 }, forSeconds: 30 });
  });

  it('reads progress apart from the version, and moves the detail hash only with conditions or crashes', async () => {
    const versionOf = async () => (await repo.queryVersions()).find((q) => q.id === queryId)!;
    const stampOf = async () => (await repo.progressStamps()).find((p) => p.id === queryId);
    const before = await versionOf();
    expect(before).toMatchObject({ cluster, phase: 'RUNNING', desiredState: 'RUNNING' });
    expect(await stampOf()).toBeUndefined();
    // A progress write (raw SQL, as the progress writer does it) moves lastProgressAt only: the
    // version row stays as it was, the stamp is read on its own.
    await db.query(`UPDATE "Query" SET "lastProgressAt" = '2026-12-02T12:00:00Z' WHERE id = $1`, [queryId]);
    expect(await versionOf()).toEqual(before);
    expect(await stampOf()).toEqual({ id: queryId, atMs: Date.parse('2026-12-02T12:00:00Z') });
    // A new condition moves the hash; the detail read by id comes with the same hash.
    await db.query(`UPDATE "Query" SET conditions = '[{"type":"Ready","message":"exit 1"}]' WHERE id = $1`, [
      queryId,
    ]);
    const failed = await versionOf();
    expect(failed.detail).not.toBe(before.detail);
    const [detail] = await repo.queryDetails([queryId]);
    expect(detail).toEqual({
      id: queryId,
      detail: failed.detail,
      conditions: [{ type: 'Ready', message: 'exit 1' }],
      crashTimes: [],
    });
    expect(await repo.queryDetails([])).toEqual([]);
  });

  it('reads version rows by bucket: the same rows as a full read, only the buckets whose digest moved', async () => {
    const buckets = new VersionBuckets<{ id: string; phase: string; bucket: number }>();
    const first = buckets.apply(await repo.queryVersionBuckets(buckets.known()));
    const mine = first.find((q) => q.id === queryId)!;
    expect(mine).toMatchObject((await repo.queryVersions()).find((q) => q.id === queryId)!);
    // Asked again with the digests it holds, a bucket's rows come only where the digest differs
    // (other suites share this database, so some buckets may have moved meanwhile).
    const known = new Map((JSON.parse(buckets.known()) as Array<[number, string]>).map(([b, d]) => [b, d]));
    const again: BucketRead[] = await repo.queryVersionBuckets(buckets.known());
    for (const b of again) expect(b.rows === null).toBe(known.get(b.bucket) === b.digest);
    // A write moves its bucket's digest: the next read sends that bucket with the new version.
    buckets.apply(again);
    await db.query(`UPDATE "Query" SET phase = 'DEGRADED' WHERE id = $1`, [queryId]);
    const read = await repo.queryVersionBuckets(buckets.known());
    expect(read.find((b) => b.bucket === mine.bucket)!.rows).not.toBeNull();
    const moved = buckets.apply(read).find((q) => q.id === queryId)!;
    expect(moved.phase).toBe('DEGRADED');
    // Progress is not in the version rows: after a progress write the row reads the same.
    await db.query(`UPDATE "Query" SET "lastProgressAt" = '2026-12-02T13:00:00Z' WHERE id = $1`, [queryId]);
    const afterProgress = buckets.apply(await repo.queryVersionBuckets(buckets.known()));
    expect(afterProgress.find((q) => q.id === queryId)).toEqual(moved);
    await db.query(`UPDATE "Query" SET phase = 'RUNNING' WHERE id = $1`, [queryId]);
    // A deleted (soft-deleted) query is gone from the next read.
    await db.query(`UPDATE "Query" SET "deletedAt" = now() WHERE id = $1`, [queryId]);
    const gone = buckets.apply(await repo.queryVersionBuckets(buckets.known()));
    expect(gone.find((q) => q.id === queryId)).toBeUndefined();
    await db.query(`UPDATE "Query" SET "deletedAt" = NULL WHERE id = $1`, [queryId]);
  });

  it('writes an alert, reads its version and whole row, and moves the version on an acknowledgement', async () => {
    const alertId = randomUUID();
    await repo.applyWrites({
      upserts: [
        {
          id: alertId,
          ruleId: ruleIds[0]!,
          queryId,
          queryName: `eval-repo-q-${run}`,
          state: 'pending',
          activeAt: '2026-12-02T12:00:00.000Z',
          firedAt: null,
          resolvedAt: null,
          value: 90,
          figures: { seconds: 90 },
          labels: { alertname: `EvalRepoMine-${run}` },
          annotations: {},
          newEpisode: true,
        },
      ],
      transitions: [
        {
          alertId,
          ruleName: `EvalRepoMine-${run}`,
          queryName: `eval-repo-q-${run}`,
          from: 'inactive',
          to: 'pending',
          value: 90,
          figures: { seconds: 90 },
          at: '2026-12-02T12:00:00.000Z',
        },
      ],
      deletes: [],
    });
    const versionOf = async () => (await repo.alertVersions(cluster)).find((a) => a.id === alertId)!;
    const v1 = await versionOf();
    expect(v1).toMatchObject({ ruleId: ruleIds[0], queryId, inScope: true });
    // By bucket, the same row (with the same scope).
    const alertBuckets = new VersionBuckets<{ id: string; inScope: boolean }>();
    const byBucket = alertBuckets.apply(await repo.alertVersionBuckets(cluster, alertBuckets.known()));
    expect(byBucket.find((a) => a.id === alertId)).toMatchObject(v1);
    // For another cluster's evaluation the same row is out of scope (its rule is this cluster's).
    expect((await repo.alertVersions('elsewhere')).find((a) => a.id === alertId)!.inScope).toBe(false);
    expect(await repo.alertRows([alertId])).toEqual([
      {
        id: alertId,
        ruleId: ruleIds[0],
        queryId,
        queryName: `eval-repo-q-${run}`,
        state: 'pending',
        activeAtMs: Date.parse('2026-12-02T12:00:00Z'),
        firedAtMs: null,
        resolvedAtMs: null,
        value: 90,
        figures: { seconds: 90 },
      },
    ]);
    await db.query(`UPDATE "Alert" SET "acknowledgedAt" = now(), "acknowledgedBy" = 'op' WHERE id = $1`, [
      alertId,
    ]);
    expect((await versionOf()).version).not.toBe(v1.version);
    await repo.applyWrites({ upserts: [], transitions: [], deletes: [alertId] });
    expect(await repo.alertRows([alertId])).toEqual([]);
    await db.query(`DELETE FROM "AlertTransition" WHERE "alertId" = $1`, [alertId]);
  });

  it('clears an acknowledgement when a new episode starts, keeps it while the episode continues, in one write with a transition and a deletion', async () => {
    const alertId = randomUUID();
    const goneId = randomUUID();
    const upsert = (state: string, newEpisode: boolean) => ({
      id: alertId,
      ruleId: ruleIds[0]!,
      queryId,
      queryName: `eval-repo-q-${run}`,
      state,
      activeAt: '2026-12-02T12:00:00.000Z',
      firedAt: state === 'firing' ? '2026-12-02T12:01:00.000Z' : null,
      resolvedAt: null,
      value: 90,
      figures: {},
      labels: { alertname: `EvalRepoMine-${run}` },
      annotations: {},
      newEpisode,
    });
    const transition = (id: string, from: string, to: string) => ({
      alertId: id,
      ruleName: `EvalRepoMine-${run}`,
      queryName: `eval-repo-q-${run}`,
      from,
      to,
      value: 90,
      figures: null,
      at: '2026-12-02T12:00:00.000Z',
    });
    const ack = () =>
      db.query(
        `UPDATE "Alert" SET "acknowledgedAt" = now(), "acknowledgedBy" = 'op', "ackComment" = 'seen' WHERE id = $1`,
        [alertId],
      );
    const ackOf = async () =>
      (
        await db.query<{ acknowledgedBy: string | null; ackComment: string | null; at: boolean }>(
          `SELECT "acknowledgedBy", "ackComment", "acknowledgedAt" IS NOT NULL AS at FROM "Alert" WHERE id = $1`,
          [alertId],
        )
      ).rows[0];
    await repo.applyWrites({ upserts: [upsert('pending', true)], transitions: [], deletes: [] });
    await ack();
    // pending → firing continues the episode: the acknowledgement stays (and the deletion of
    // another alert and a transition go in the same write).
    await repo.applyWrites({
      upserts: [upsert('firing', false)],
      transitions: [transition(alertId, 'pending', 'firing'), transition(goneId, 'firing', 'inactive')],
      deletes: [goneId],
    });
    expect(await ackOf()).toEqual({ acknowledgedBy: 'op', ackComment: 'seen', at: true });
    expect((await repo.alertRows([alertId]))[0]!.state).toBe('firing');
    // A new episode (firing again straight from resolved): the acknowledgement goes.
    await repo.applyWrites({ upserts: [upsert('firing', true)], transitions: [], deletes: [] });
    expect(await ackOf()).toEqual({ acknowledgedBy: null, ackComment: null, at: false });
    const transitions = await db.query<{ alertId: string; to: string; figures: unknown }>(
      `SELECT "alertId"::text AS "alertId", "to", figures FROM "AlertTransition"
       WHERE "alertId" = ANY($1::uuid[]) ORDER BY "to"`,
      [[alertId, goneId]],
    );
    expect(transitions.rows).toEqual([
      { alertId, to: 'firing', figures: {} },
      { alertId: goneId, to: 'inactive', figures: {} },
    ]);
    await repo.applyWrites({ upserts: [], transitions: [], deletes: [alertId] });
    await db.query(`DELETE FROM "AlertTransition" WHERE "alertId" = ANY($1::uuid[])`, [[alertId, goneId]]);
  });

  it('saves histories from JSON chunks and reads them back as chunks, leaving out the excepted', async () => {
    const chunk = JSON.stringify([
      { queryId, state: { v: 1, samples: [1] } },
      { queryId: otherQueryId, state: { v: 1, samples: [2] } },
    ]);
    await repo.saveHistories(chunk, new Date());
    const read = (await repo.storedHistories([otherQueryId])).flatMap(
      (c) => JSON.parse(c) as Array<{ queryId: string; state: unknown }>,
    );
    expect(read.find((h) => h.queryId === queryId)?.state).toEqual({ v: 1, samples: [1] });
    expect(read.some((h) => h.queryId === otherQueryId)).toBe(false);
    // A later save replaces the row (the column is `json`: the text comes back as saved).
    await repo.saveHistories(JSON.stringify([{ queryId, state: { v: 3, samples: [1, 2.5] } }]), new Date());
    const again = (await repo.storedHistories([otherQueryId])).flatMap(
      (c) => JSON.parse(c) as Array<{ queryId: string; state: unknown }>,
    );
    expect(again.filter((h) => h.queryId === queryId).map((h) => h.state)).toEqual([
      { v: 3, samples: [1, 2.5] },
    ]);
  });

  it("reads one share of the rows: each row in its id's share", async () => {
    const COUNT = 8;
    const shares = Array.from({ length: COUNT }, (_, index) => ({ index, count: COUNT }));
    const mine = shareOfId(queryId, COUNT);
    for (const share of shares) {
      const ids = (await repo.queryVersions(share)).map((q) => q.id);
      expect(ids.includes(queryId)).toBe(share.index === mine);
      expect(ids.includes(otherQueryId)).toBe(share.index === shareOfId(otherQueryId, COUNT));
      // Every row read is of the share asked for.
      for (const id of ids) expect(shareOfId(id, COUNT)).toBe(share.index);
    }
    await db.query(`UPDATE "Query" SET "lastProgressAt" = now() WHERE id = $1`, [queryId]);
    for (const share of shares) {
      const stamped = (await repo.progressStamps(share)).map((p) => p.id);
      expect(stamped.includes(queryId)).toBe(share.index === mine);
    }
    // Saved histories by share. Only live queries' rows are used here: another test's evaluator
    // drops the histories of queries no longer live, at any time.
    await repo.saveHistories(
      JSON.stringify([
        { queryId, state: { v: 1 } },
        { queryId: otherQueryId, state: { v: 1 } },
      ]),
      new Date(),
    );
    for (const share of shares) {
      const saved = (await repo.storedHistories([], share)).flatMap((c) =>
        (JSON.parse(c) as Array<{ queryId: string }>).map((h) => h.queryId),
      );
      expect(saved.includes(queryId)).toBe(share.index === mine);
      expect(saved.includes(otherQueryId)).toBe(share.index === shareOfId(otherQueryId, COUNT));
      for (const id of saved) expect(shareOfId(id, COUNT)).toBe(share.index);
    }
  });

  it('analyses the tables it is asked to (the evaluation does so after a bulk change)', async () => {
    const lastAnalyze = async () =>
      (
        await db.query<{ relname: string; n: string }>(
          `SELECT relname, analyze_count::text AS n FROM pg_stat_user_tables WHERE relname IN ('Alert', 'Query')`,
        )
      ).rows.reduce<Record<string, number>>((m, r) => ({ ...m, [r.relname]: Number(r.n) }), {});
    const before = await lastAnalyze();
    await repo.analyze(['Alert', 'Query']);
    const after = await lastAnalyze();
    // analyze_count counts manual ANALYZEs only (autovacuum's are autoanalyze_count).
    expect(after.Alert).toBeGreaterThanOrEqual((before.Alert ?? 0) + 1);
    expect(after.Query).toBeGreaterThanOrEqual((before.Query ?? 0) + 1);
    await repo.analyze([]); // nothing asked, nothing sent
  });
});
