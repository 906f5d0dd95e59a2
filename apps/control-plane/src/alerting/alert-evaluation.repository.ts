// What the alert evaluation reads and writes, in its terms (the evaluator names what it needs here
// instead of calling Prisma). A tick reads each table's rows as short version rows (one statement
// each, no JSON decoded), and the full columns only of the rows whose version changed since the
// last tick (alert-mirror.ts, query-mirror.ts): at 1,000 queries the evaluator's main thread then
// decodes a handful of rows a tick, not every query's and every alert's JSON.
// Every statement runs through `pg` directly (PrismaRepository.sql, sql-pool.ts): they run on the
// API's event loop every tick, and Prisma's client runtime was their largest cost there.
import { Injectable } from '@nestjs/common';
import { PrismaRepository } from '../repositories/prisma.repository';
import { writeStatements, type AlertWrites } from './alert-writes';
import type { AlertVersion } from './alert-mirror';
import type { AnalyzedTable } from './planner-statistics';
import { HISTORY_CHUNK, type AlertInput, type RuleInput } from './evaluation-messages';
import { shareFilterSql, type Share } from './evaluation-shares';
import { VERSION_BUCKETS, type BucketRead } from './version-buckets';

/**
 * One live query as a tick reads it: what the main thread needs of every query (ownership, the
 * gauges) and `detail`, a hash of the columns only the thread needs (conditions, crash times),
 * fetched again only when it changes. Its last progress is not in it (progressSql): with engines
 * running it moves with every batch, and in the version row it changed every query's row every
 * tick, so every bucket was read, decoded and handed over again (bench:alerts --progress-ms).
 */
export interface QueryVersionRow {
  id: string;
  cluster: string | null;
  name: string;
  phase: string;
  desiredState: string;
  detail: string;
}

/** A live query's last progress (lastProgressAt), epoch ms: read apart from its version row. */
export interface ProgressStamp {
  id: string;
  atMs: number;
}

/** The columns of a query the thread needs beyond its version row, with their hash. */
export interface QueryDetail {
  id: string;
  detail: string;
  conditions: unknown;
  crashTimes: unknown;
}

/** One Alert row's version (see alertVersionsSql), with what the cluster scope needs. */
export interface AlertVersionRow extends AlertVersion {
  ruleId: string;
  queryId: string;
}

/** Every query in one share: what a caller without shares reads. */
const WHOLE: Share = { index: 0, count: 1 };

const DETAIL_HASH = `md5(q.conditions::text || '|' || q."crashTimes"::text)`;

/** Every live query of a share (all clusters: the scope is split in cluster-scope.ts). */
const queryVersionsSql = (share: Share) => `
  SELECT q.id::text AS id, q.cluster, q.name, q.phase::text AS phase,
    q."desiredState"::text AS "desiredState",
    ${DETAIL_HASH} AS detail
  FROM "Query" q WHERE q."deletedAt" IS NULL AND ${shareFilterSql('q.id', share)}`;

/** Every live query's last progress, of those of a share that have one (all clusters, as above). */
const progressSql = (share: Share) => `
  SELECT q.id::text AS id, (extract(epoch FROM q."lastProgressAt") * 1000)::float8 AS "atMs"
  FROM "Query" q
  WHERE q."deletedAt" IS NULL AND q."lastProgressAt" IS NOT NULL AND ${shareFilterSql('q.id', share)}`;

const QUERY_DETAILS_SQL = `
  SELECT q.id::text AS id, ${DETAIL_HASH} AS detail, q.conditions, q."crashTimes"
  FROM "Query" q WHERE q.id = ANY($1::uuid[])`;

/**
 * The version of every Alert row on a query of a share (a query's alerts are evaluated with it).
 * Every write of a row sets updatedAt (the evaluator's upsert, an acknowledgement through Prisma),
 * so updatedAt with state and acknowledgedAt is the row's version.
 * Rows of another cluster's rules are read too (flagged out of scope, $1 the cluster): the router
 * routes only this cluster's queries' groups (notification-router.service.ts), so another
 * cluster's changes it leaves alone.
 */
const alertVersionsSql = (share: Share) => `
  SELECT a.id::text AS id, a."ruleId"::text AS "ruleId", a."queryId"::text AS "queryId",
    a."queryName", (r.cluster IS NULL OR r.cluster = $1) AS "inScope",
    concat_ws('|', a.state, a."updatedAt"::text, a."acknowledgedAt"::text) AS version
  FROM "Alert" a JOIN "AlertRule" r ON r.id = a."ruleId"
  WHERE ${shareFilterSql('a."queryId"', share)}`;

/**
 * `versionsSql`'s rows by bucket (version-buckets.ts), in one statement and so one snapshot: every
 * bucket's digest and, for the buckets whose digest is not the one in `knownParam` (JSON [[bucket,
 * digest], …]), the rows as a JSON array. Buckets with no rows are not returned. The digest is the
 * row count and the sum of the rows' 64-bit hashes (hashtextextended of the row's text): it needs
 * no sort and no text of the whole bucket, which made an md5 over each bucket's JSON cost the
 * database more than reading every row (bench/alerts/read-profile.ts).
 */
const bucketedSql = (versionsSql: string, knownParam: string) => `
  WITH v0 AS (${versionsSql}),
  v AS MATERIALIZED (
    SELECT v0.*, get_byte(uuid_send(v0.id::uuid), 15) % ${VERSION_BUCKETS} AS bucket FROM v0),
  d AS (SELECT bucket, count(*) || ':' || sum(hashtextextended(v::text, 0)) AS digest FROM v GROUP BY bucket),
  k AS (SELECT (e->>0)::int AS bucket, e->>1 AS digest FROM jsonb_array_elements(${knownParam}::jsonb) e),
  c AS (SELECT d.bucket, d.digest, k.digest IS DISTINCT FROM d.digest AS changed
        FROM d LEFT JOIN k ON k.bucket = d.bucket)
  SELECT c.bucket, c.digest, json_agg(v) FILTER (WHERE v.id IS NOT NULL)::text AS rows
  FROM c LEFT JOIN v ON c.changed AND v.bucket = c.bucket
  GROUP BY c.bucket, c.digest`;

/** The columns of the thread's alert rows, times in epoch ms. */
const ALERT_ROWS_SQL = `
  SELECT a.id::text AS id, a."ruleId"::text AS "ruleId", a."queryId"::text AS "queryId",
    a."queryName", a.state,
    (extract(epoch FROM a."activeAt") * 1000)::float8 AS "activeAtMs",
    (extract(epoch FROM a."firedAt") * 1000)::float8 AS "firedAtMs",
    (extract(epoch FROM a."resolvedAt") * 1000)::float8 AS "resolvedAtMs",
    a.value, a.figures
  FROM "Alert" a WHERE a.id = ANY($1::uuid[])`;

/** The enabled rules of cluster $1 (and those of every cluster), in a stable order. */
const RULE_ROWS_SQL = `
  SELECT id::text AS id, name, kind, params, "forSeconds", severity, labels, annotations, queries
  FROM "AlertRule" WHERE enabled AND (cluster IS NULL OR cluster = $1) ORDER BY name`;

// `json`, not `jsonb`, end to end (the column too): no jsonb is built from ~0.8 MB a tick.
const SAVE_HISTORIES_SQL = `
  INSERT INTO "AlertQueryHistory" ("queryId", "state", "savedAt")
  SELECT "queryId", "state", $2::timestamp(3)
  FROM json_to_recordset($1::json) AS x("queryId" uuid, "state" json)
  ON CONFLICT ("queryId") DO UPDATE SET "state" = EXCLUDED."state", "savedAt" = EXCLUDED."savedAt"`;

@Injectable()
export class AlertEvaluationRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** The enabled rules the evaluating cluster evaluates: its own and those with no cluster. */
  rules(cluster: string): Promise<RuleInput[]> {
    return this.prisma.sql.rows<RuleInput>(RULE_ROWS_SQL, [cluster]);
  }

  /** Every live (not deleted) query of every cluster in `share`, as version rows. */
  queryVersions(share: Share = WHOLE): Promise<QueryVersionRow[]> {
    return this.prisma.sql.rows<QueryVersionRow>(queryVersionsSql(share));
  }

  /**
   * The live queries' version rows by bucket: rows only of the buckets whose digest is not among
   * `known` (VersionBuckets.known()); the others are as the caller holds them.
   */
  queryVersionBuckets(known: string, share: Share = WHOLE): Promise<BucketRead[]> {
    return this.prisma.sql.rows<BucketRead>(bucketedSql(queryVersionsSql(share), '$1'), [known]);
  }

  /** The Alert rows' versions by bucket, as `queryVersionBuckets` (`inScope` for `cluster`). */
  alertVersionBuckets(cluster: string, known: string, share: Share = WHOLE): Promise<BucketRead[]> {
    return this.prisma.sql.rows<BucketRead>(bucketedSql(alertVersionsSql(share), '$2'), [cluster, known]);
  }

  /** Every live query's last progress, in `share` (those with none are left out). */
  progressStamps(share: Share = WHOLE): Promise<ProgressStamp[]> {
    return this.prisma.sql.rows<ProgressStamp>(progressSql(share));
  }

  /** Conditions and crash times of these queries (those whose detail hash changed). */
  async queryDetails(ids: readonly string[]): Promise<QueryDetail[]> {
    if (ids.length === 0) return [];
    return this.prisma.sql.rows<QueryDetail>(QUERY_DETAILS_SQL, [ids]);
  }

  /** Every Alert row's version in `share`; `inScope`: whether `cluster`'s evaluation owns its rule. */
  alertVersions(cluster: string, share: Share = WHOLE): Promise<AlertVersionRow[]> {
    return this.prisma.sql.rows<AlertVersionRow>(alertVersionsSql(share), [cluster]);
  }

  /** The thread's columns of these alerts (those whose version changed); gone ones are left out. */
  async alertRows(ids: readonly string[]): Promise<AlertInput[]> {
    if (ids.length === 0) return [];
    return this.prisma.sql.rows<AlertInput>(ALERT_ROWS_SQL, [ids]);
  }

  /**
   * The histories the last leader saved (a new leader continues from them) of the queries in
   * `share`, except those in `exceptIds` (another cluster's), as JSON arrays of StoredHistory of
   * HISTORY_CHUNK at most: the thread parses them, this thread only passes the text on.
   */
  async storedHistories(exceptIds: readonly string[], share: Share = WHOLE): Promise<string[]> {
    const rows = await this.prisma.sql.rows<{ chunk: string }>(
      `SELECT json_agg(json_build_object('queryId', h."queryId", 'state', h.state))::text AS chunk
       FROM (SELECT "queryId", state, (row_number() OVER (ORDER BY "queryId") - 1) / ${HISTORY_CHUNK} AS n
             FROM "AlertQueryHistory"
             WHERE NOT ("queryId" = ANY($1::uuid[])) AND ${shareFilterSql('"queryId"', share)}) h
       GROUP BY h.n`,
      [exceptIds],
    );
    return rows.map((r) => r.chunk);
  }

  /**
   * Saves histories: `chunk` is a JSON array of {queryId, state} (the thread serialises them, so
   * this thread never builds or stringifies ~1,000 histories' objects).
   */
  async saveHistories(chunk: string, savedAt: Date): Promise<void> {
    await this.prisma.sql.execute(SAVE_HISTORIES_SQL, [chunk, savedAt.toISOString()]);
  }

  /** Drops the saved histories of queries in `share` not among `liveIds` (deleted ones). */
  async dropHistoriesExcept(liveIds: readonly string[], share: Share = WHOLE): Promise<void> {
    await this.prisma.sql.execute(
      `DELETE FROM "AlertQueryHistory"
       WHERE NOT ("queryId" = ANY($1::uuid[])) AND ${shareFilterSql('"queryId"', share)}`,
      [liveIds],
    );
  }

  /** Fresh planner statistics for `tables` (planner-statistics.ts says when and why). */
  async analyze(tables: readonly AnalyzedTable[]): Promise<void> {
    if (tables.length === 0) return;
    // Identifiers from a closed set (AnalyzedTable), never from input.
    await this.prisma.sql.execute(`ANALYZE ${tables.map((t) => `"${t}"`).join(', ')}`);
  }

  /** One transaction: alert rows, their transitions and deletions (alert-writes.ts). */
  async applyWrites(w: AlertWrites): Promise<void> {
    await this.prisma.sql.transaction(writeStatements(w));
  }
}
