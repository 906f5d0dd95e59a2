// The evaluator's writes of one tick as a handful of set-based statements: every changed alert in
// one INSERT … ON CONFLICT, every transition in one INSERT, every alert gone back to inactive in
// one DELETE, the acknowledgements a new episode clears in one UPDATE. The rows travel as one JSONB
// parameter (jsonb_to_recordset), so the statement text never changes and 1,000 changed alerts
// cost four round trips; Prisma's per-row upserts (compiled one by one) took 15 s for 1,000 alerts
// at 1,000 queries × 16 partitions (BENCHMARKS.md, issue 15 profile).
// Only statements are built here (text and parameters); the repository that owns the evaluator's
// writes runs them in its transaction. This module is also loaded by the evaluation thread
// (emptyWrites, the types), so it imports no database client.
import type { SqlStatement } from '../repositories/sql-pool';

export interface AlertUpsert {
  id: string;
  ruleId: string;
  queryId: string;
  queryName: string;
  state: string;
  activeAt: string | null;
  firedAt: string | null;
  resolvedAt: string | null;
  value: number | null;
  figures: unknown;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** A new episode (pending, or firing straight from inactive/resolved): its acknowledgement goes. */
  newEpisode: boolean;
}

export interface TransitionInsert {
  alertId: string;
  ruleName: string;
  queryName: string;
  from: string;
  to: string;
  value: number | null;
  figures: unknown;
  at: string;
}

export interface AlertWrites {
  upserts: AlertUpsert[];
  transitions: TransitionInsert[];
  deletes: string[];
}

export const emptyWrites = (): AlertWrites => ({ upserts: [], transitions: [], deletes: [] });

export function writeStatements(w: AlertWrites): SqlStatement[] {
  const out: SqlStatement[] = [];
  if (w.transitions.length > 0) {
    out.push({
      text: `INSERT INTO "AlertTransition" ("alertId", "ruleName", "queryName", "from", "to", "value", "figures", "at")
         SELECT "alertId", "ruleName", "queryName", "from", "to", "value", COALESCE("figures", '{}'::jsonb), "at"
         FROM jsonb_to_recordset($1::jsonb) AS x("alertId" uuid, "ruleName" text, "queryName" text,
           "from" text, "to" text, "value" float8, "figures" jsonb, "at" timestamp(3))`,
      values: [JSON.stringify(w.transitions)],
    });
  }
  if (w.deletes.length > 0) {
    out.push({ text: `DELETE FROM "Alert" WHERE id = ANY($1::uuid[])`, values: [w.deletes] });
  }
  if (w.upserts.length > 0) {
    out.push({
      text: `INSERT INTO "Alert" ("id", "ruleId", "queryId", "queryName", "state", "activeAt", "firedAt",
           "resolvedAt", "value", "figures", "labels", "annotations", "updatedAt")
         SELECT "id", "ruleId", "queryId", "queryName", "state", "activeAt", "firedAt", "resolvedAt",
           "value", COALESCE("figures", '{}'::jsonb), "labels", "annotations", now()
         FROM jsonb_to_recordset($1::jsonb) AS x("id" uuid, "ruleId" uuid, "queryId" uuid,
           "queryName" text, "state" text, "activeAt" timestamp(3), "firedAt" timestamp(3),
           "resolvedAt" timestamp(3), "value" float8, "figures" jsonb, "labels" jsonb, "annotations" jsonb)
         ON CONFLICT ("ruleId", "queryId") DO UPDATE SET
           "queryName" = EXCLUDED."queryName", "state" = EXCLUDED."state",
           "activeAt" = EXCLUDED."activeAt", "firedAt" = EXCLUDED."firedAt",
           "resolvedAt" = EXCLUDED."resolvedAt", "value" = EXCLUDED."value",
           "figures" = EXCLUDED."figures", "labels" = EXCLUDED."labels",
           "annotations" = EXCLUDED."annotations", "updatedAt" = now()`,
      // The rows as they are: jsonb_to_recordset reads only the columns it names (newEpisode is
      // ignored), so no copy of every row without it is built first.
      values: [JSON.stringify(w.upserts)],
    });
    const reset = w.upserts.filter((u) => u.newEpisode).map((u) => u.id);
    if (reset.length > 0) {
      // A new episode is not acknowledged by the acknowledgement of the previous one.
      out.push({
        text: `UPDATE "Alert" SET "acknowledgedAt" = NULL, "acknowledgedBy" = NULL, "ackComment" = NULL
           WHERE id = ANY($1::uuid[]) AND "acknowledgedAt" IS NOT NULL`,
        values: [reset],
      });
    }
  }
  return out;
}
