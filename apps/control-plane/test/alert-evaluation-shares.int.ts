// The alert evaluation spread over the interval in shares (alerting/evaluation-shares.ts), on the
// real PostgreSQL and Redis with a control plane of its own cluster: 16 FAILED queries, four in
// each of four shares (interval 1 s, SLUICE_ALERT_EVAL_SHARES 8: 4 used, passes 250 ms apart).
// Each share's pass runs at its own offset, whole intervals after its last, over its own queries
// only; every query's alert fires; every share's series stay exported while the others' passes
// come and go; and when a query is deleted, its saved history goes and no other share's does.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { QueryHistory } from '@sluice/alerting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluator, type TickResult } from '../src/alerting/alert-evaluator.service';
import { shareOfId } from '../src/alerting/evaluation-shares';
import { cleanUp } from './support/cleanup';
import { alertingEnv } from './support/loopback-receiver';
import { eventually, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

const suffix = randomUUID().slice(0, 8);
const cluster = `it-shares-${suffix}`;
const ruleName = `ItSharesFailed_${suffix}`;
const SHARES = 4;
const PER_SHARE = 4;
const INTERVAL_MS = 1000;

let t: TestApp;
let db: Client;
/** Query ids by share. */
const byShare: string[][] = Array.from({ length: SHARES }, () => []);
const names = new Map<string, string>();
const passes: Array<{ share: number; slotMs: number; result: TickResult | undefined }> = [];

beforeAll(async () => {
  db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  // Four queries in each share (a query's share is its id's: drawn until each has its four).
  while (byShare.some((ids) => ids.length < PER_SHARE)) {
    const id = randomUUID();
    const ids = byShare[shareOfId(id, SHARES)]!;
    if (ids.length < PER_SHARE) ids.push(id);
  }
  for (const id of byShare.flat()) {
    const name = `shares-${suffix}-${names.size}`;
    names.set(id, name);
    // FAILED and never deployed: the reconciler starts nothing for it (a FAILED query's target is 0).
    await db.query(
      `INSERT INTO "Query" (id, name, "desiredState", phase, cluster, "updatedAt")
       VALUES ($1, $2, 'RUNNING', 'FAILED', $3, now())`,
      [id, name, cluster],
    );
  }
  // Saved histories, as a previous leader would have left them: each share's pass drops those of
  // its deleted queries, and must leave every other share's alone. (These queries have no lag to
  // observe, so the evaluation itself never rewrites them.)
  const state = new QueryHistory({ windowSize: 10, sampleRetentionMs: 3_600_000, objectives: [] }).toState();
  await db.query(
    `INSERT INTO "AlertQueryHistory" ("queryId", state, "savedAt")
     SELECT id, $2::json, now() FROM unnest($1::uuid[]) AS id`,
    [byShare.flat(), JSON.stringify(state)],
  );
  t = await startTestApp(
    alertingEnv(cluster, suffix, {
      SLUICE_ALERT_EVAL_INTERVAL_MS: String(INTERVAL_MS),
      SLUICE_ALERT_EVAL_SHARES: '8',
      SLUICE_METRICS_ACCESS: 'open',
    }),
  );
  // Every pass as the timer runs it: which share, at which slot, what it evaluated.
  const evaluator = t.app.get(AlertEvaluator);
  const tick = evaluator.tick.bind(evaluator);
  evaluator.tick = async (nowMs?: number, slotMs?: number, share?: number) => {
    const result = await tick(nowMs, slotMs, share);
    passes.push({ share: share ?? 0, slotMs: slotMs ?? 0, result });
    return result;
  };
  const created = await t.call('POST', '/api/v1/alert-rules', {
    name: ruleName,
    kind: 'queryHealth',
    params: { check: 'failed' },
    forSeconds: 0,
    severity: 'warning',
    annotations: { summary: '{{ $labels.query }} failed' },
    cluster,
  });
  expect(created.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cleanUp([
    ['close the control plane', () => t?.close()],
    ['delete the rule', () => db?.query(`DELETE FROM "AlertRule" WHERE name = $1`, [ruleName])],
    [
      'delete the saved histories',
      () => db?.query(`DELETE FROM "AlertQueryHistory" WHERE "queryId" = ANY($1::uuid[])`, [byShare.flat()]),
    ],
    ['forget the queries', () => forgetTestQueries(suffix)],
    ['disconnect', () => db?.end()],
  ]);
});

type AlertView = { rule: string; queryId: string; state: string };

const firingOfRule = async () =>
  (await t.call<AlertView[]>('GET', '/api/v1/alerts?state=firing')).body.filter((a) => a.rule === ruleName);

describe('alert evaluation in shares', () => {
  it('runs one pass per share, at its own offset, whole intervals apart, over its own queries', async () => {
    expect(t.app.get(AlertEvaluator).shareCount).toBe(SHARES);
    // Three whole intervals after the first pass.
    await eventually(
      async () => passes.length,
      (n) => n >= 4 * SHARES,
      30_000,
      'four intervals of passes',
    );
    const seen = passes.slice(0, 4 * SHARES);
    for (const p of seen) {
      // A share's slot is its offset in the interval: share k at k quarters.
      expect(p.slotMs % INTERVAL_MS).toBe((p.share * INTERVAL_MS) / SHARES);
      // Only this cluster's four queries of its share (other tests' queries are other clusters').
      expect(p.result?.queries).toBe(PER_SHARE);
      expect(p.result?.shares).toBe(SHARES);
    }
    for (let share = 0; share < SHARES; share++) {
      const slots = seen.filter((p) => p.share === share).map((p) => p.slotMs);
      expect(slots.length).toBeGreaterThanOrEqual(3);
      // Whole intervals apart (a late timer could skip one, never move one off the grid).
      for (let i = 1; i < slots.length; i++) expect((slots[i]! - slots[i - 1]!) % INTERVAL_MS).toBe(0);
    }
    // The shares take turns: every pass's share follows the one before.
    for (let i = 1; i < seen.length; i++) {
      const step = (seen[i]!.slotMs - seen[i - 1]!.slotMs) / (INTERVAL_MS / SHARES);
      expect((seen[i - 1]!.share + step) % SHARES).toBe(seen[i]!.share);
    }
  });

  it("fires every query's alert, and keeps every share's series exported across the others' passes", async () => {
    const all = byShare.flat();
    await eventually(
      firingOfRule,
      (list) => all.every((id) => list.some((a) => a.queryId === id)),
      30_000,
      'all firing',
    );
    // Scrapes a pass apart and more: each shows every query, whichever share just ended its pass.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${t.base}/metrics`);
      const text = await res.text();
      for (const id of all) {
        const q = names.get(id)!;
        expect(text).toContain(`sluice_query_phase{query="${q}",phase="FAILED"} 1`);
        expect(text).toContain(`sluice_alerts{state="firing",rule="${ruleName}",query="${q}"} 1`);
      }
      await new Promise((r) => setTimeout(r, 170));
    }
  });

  it("drops a deleted query's saved history and keeps every other query's, whichever share drops", async () => {
    const all = byShare.flat();
    const saved = async () =>
      new Set(
        (
          await db.query<{ id: string }>(
            `SELECT "queryId"::text AS id FROM "AlertQueryHistory" WHERE "queryId" = ANY($1::uuid[])`,
            [all],
          )
        ).rows.map((r) => r.id),
      );
    expect((await saved()).size).toBe(all.length);
    const gone = byShare[2]![0]!;
    await db.query(`UPDATE "Query" SET "deletedAt" = now() WHERE id = $1`, [gone]);
    // Share 2 drops it at its next drop (every six of its passes); the other shares drop theirs
    // meanwhile too, and must not take share 2's (or each other's) with them.
    await eventually(saved, (s) => !s.has(gone), 30_000, "the deleted query's history dropped");
    const passesBefore = passes.length;
    await eventually(
      async () => passes.length,
      (n) => n >= passesBefore + 6 * SHARES,
      30_000,
      'six more intervals',
    );
    const after = await saved();
    expect([...after].sort()).toEqual(all.filter((id) => id !== gone).sort());
  });
});
