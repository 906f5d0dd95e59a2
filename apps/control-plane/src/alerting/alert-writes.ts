// The evaluator's writes of one tick as one set-based statement: every changed alert in an INSERT …
// ON CONFLICT (which also clears the acknowledgement a new episode ends), every transition in one
// INSERT, every alert gone back to inactive in one DELETE, as data-modifying CTEs. The rows travel
// as JSONB parameters (jsonb_to_recordset), so the statement text never changes and 1,000 changed
// alerts cost one round trip; Prisma's per-row upserts (compiled one by one) took 15 s for 1,000 alerts
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

/** The upserted rows' columns as jsonb_to_recordset reads them ($3: the AlertUpsert JSON array). */
const UPSERT_ROWS = `jsonb_to_recordset($3::jsonb) AS x("id" uuid, "ruleId" uuid, "queryId" uuid,
  "queryName" text, "state" text, "activeAt" timestamp(3), "firedAt" timestamp(3),
  "resolvedAt" timestamp(3), "value" float8, "figures" jsonb, "labels" jsonb, "annotations" jsonb,
  "newEpisode" boolean)`;

/** The upsert of the rows of UPSERT_ROWS that `filter` keeps; `ackReset` its acknowledgement columns. */
const upsert = (filter: string, ackReset: string) => `
  INSERT INTO "Alert" ("id", "ruleId", "queryId", "queryName", "state", "activeAt", "firedAt",
    "resolvedAt", "value", "figures", "labels", "annotations", "updatedAt")
  SELECT "id", "ruleId", "queryId", "queryName", "state", "activeAt", "firedAt", "resolvedAt",
    "value", COALESCE("figures", '{}'::jsonb), "labels", "annotations", now()
  FROM ${UPSERT_ROWS} WHERE ${filter}
  ON CONFLICT ("ruleId", "queryId") DO UPDATE SET
    "queryName" = EXCLUDED."queryName", "state" = EXCLUDED."state",
    "activeAt" = EXCLUDED."activeAt", "firedAt" = EXCLUDED."firedAt",
    "resolvedAt" = EXCLUDED."resolvedAt", "value" = EXCLUDED."value",
    "figures" = EXCLUDED."figures", "labels" = EXCLUDED."labels",
    "annotations" = EXCLUDED."annotations", "updatedAt" = now()${ackReset}`;

/**
 * A new episode is not acknowledged by the acknowledgement of the previous one: its row's
 * acknowledgement goes, as a separate `UPDATE … WHERE id = ANY(new episodes) AND "acknowledgedAt"
 * IS NOT NULL` after the upsert did (a row inserted fresh has none; a conflict on (ruleId, queryId)
 * with another id is not that row). In the upsert itself because one statement may not modify a
 * row twice (PostgreSQL, "Data-Modifying Statements in WITH").
 */
const clears = (column: string) =>
  `"${column}" = CASE WHEN "Alert".id = EXCLUDED.id AND "Alert"."acknowledgedAt" IS NOT NULL
      THEN NULL ELSE "Alert"."${column}" END`;
const ACK_RESET = `,\n    ${['acknowledgedAt', 'acknowledgedBy', 'ackComment'].map(clears).join(',\n    ')}`;

/**
 * One tick's writes as ONE statement of data-modifying CTEs ($1 transitions JSON, $2 deleted ids,
 * $3 upserts JSON): every statement is a socket write and a round trip on the API's event loop,
 * and BEGIN, three or four statements and COMMIT were six of them (BENCHMARKS.md, 2026-12-03
 * 15:59). One statement is atomic as the transaction was. Its parts touch disjoint rows (an alert
 * is upserted or deleted in a tick, never both; new episodes and the others are split), so that
 * they share one snapshot changes nothing; AlertTransition has no foreign key to Alert.
 */
const WRITES_SQL = `
  WITH transitions AS (
    INSERT INTO "AlertTransition" ("alertId", "ruleName", "queryName", "from", "to", "value", "figures", "at")
    SELECT "alertId", "ruleName", "queryName", "from", "to", "value", COALESCE("figures", '{}'::jsonb), "at"
    FROM jsonb_to_recordset($1::jsonb) AS x("alertId" uuid, "ruleName" text, "queryName" text,
      "from" text, "to" text, "value" float8, "figures" jsonb, "at" timestamp(3))),
  deleted AS (DELETE FROM "Alert" WHERE id = ANY($2::uuid[])),
  episodes AS (${upsert('"newEpisode"', ACK_RESET)}),
  continued AS (${upsert('NOT "newEpisode"', '')})
  SELECT 1`;

/** The tick's writes (alert rows, transitions, deletions) as statements: one, or none. */
export function writeStatements(w: AlertWrites): SqlStatement[] {
  if (w.transitions.length === 0 && w.deletes.length === 0 && w.upserts.length === 0) return [];
  return [
    {
      text: WRITES_SQL,
      // The rows as they are: jsonb_to_recordset reads only the columns it names, so no copy of
      // every row is built first.
      values: [JSON.stringify(w.transitions), w.deletes, JSON.stringify(w.upserts)],
    },
  ];
}
