// What routing and delivery read and write, in their terms: the notification router's reads of one
// pass (receivers, silences in force, this cluster's groups and alerts, due or stale deliveries)
// and its decisions written as one transaction; the delivery processor's delivery row and its
// outcome. The set-based statements stay here (jsonb_to_recordset: one statement text whatever the
// row count; one transaction per group made routing the longest phase of an evaluation on a
// loaded database, BENCHMARKS.md). Every statement runs through `pg` directly
// (PrismaRepository.sql, sql-pool.ts): a routing pass and each delivery run on the API's event loop,
// where Prisma's client runtime (typing each row and parameter, walking JSON trees) was the largest
// cost of an evaluation. Whole rows are read as the table's columns (`SELECT t.*`), which are the
// model's fields, timestamps as UTC Dates: the same objects Prisma's typed reads returned.
import { Injectable } from '@nestjs/common';
import type { Alert, NotificationDelivery, Prisma, Receiver, Silence } from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';

/** What grouping, matching and decideFlush need of an alert (the full row only if it is sent). */
export interface RoutedAlert {
  readonly id: string;
  readonly state: string;
  readonly labels: Record<string, string>;
  readonly queryName: string;
  readonly resolvedAtMs: number | null;
  readonly acknowledged: boolean;
}

/** A NotificationGroup row: its timers in epoch ms and the last sent fingerprint. */
export interface GroupRow {
  readonly receiverId: string;
  readonly groupKey: string;
  readonly firstSeenAtMs: number | null;
  readonly lastSentAtMs: number | null;
  readonly lastHash: string | null;
}

/** A group's state as a pass leaves it (ISO timestamps). */
export interface GroupStateWrite {
  receiverId: string;
  groupKey: string;
  firstSeenAt: string | null;
  lastSentAt: string | null;
  lastHash: string | null;
}

/** A notification to send: its id is the job id and the receiver's Idempotency-Key. */
export interface NewDelivery {
  id: string;
  receiverId: string;
  groupKey: string;
  payload: Prisma.InputJsonValue;
}

/** One routing pass's decisions, written together. */
export interface RoutingWrites {
  drops: Array<{ receiverId: string; groupKey: string }>;
  states: GroupStateWrite[];
  deliveries: NewDelivery[];
}

/** A delivery ready to be enqueued again: a round is its number of attempts so far. */
export interface QueuedDelivery {
  id: string;
  attempts: number;
}

/**
 * The firing/resolved alerts on this cluster's queries ($1 the cluster), all of them or ($2, a JSON
 * array) those of these query names.
 */
const routedAlertsSql = (some: boolean) => `
  SELECT a.id::text AS id, a.state, a.labels, a."queryName",
    (extract(epoch FROM a."resolvedAt") * 1000)::float8 AS "resolvedAtMs",
    a."acknowledgedAt" IS NOT NULL AS acknowledged
  FROM "Alert" a JOIN "Query" q ON q.id = a."queryId"
  WHERE a.state IN ('firing', 'resolved') AND q.cluster = $1
  ${some ? `AND a."queryName" IN (SELECT jsonb_array_elements_text($2::jsonb))` : ''}`;

/**
 * Every group of this cluster's queries ($1) with its timers, in one statement (the due ones are
 * picked in routing-scope.ts). Another cluster's groups are its leader's to decide, drop included.
 */
const GROUP_ROWS_SQL = `
  SELECT g."receiverId"::text AS "receiverId", g."groupKey",
    (extract(epoch FROM g."firstSeenAt") * 1000)::float8 AS "firstSeenAtMs",
    (extract(epoch FROM g."lastSentAt") * 1000)::float8 AS "lastSentAtMs",
    g."lastHash"
  FROM "NotificationGroup" g JOIN "Query" q ON q.name = g."groupKey"
  WHERE q.cluster = $1`;
/**
 * Deliveries of this cluster's groups ($1) past their deferral ($2), oldest first, and test
 * notifications (group "test", no query: every leader re-queues them, so with several clusters on
 * one database a deferred test notification may arrive once per cluster — never not at all).
 */
const DUE_DEFERRED_SQL = `
  SELECT d.id::text AS id, d."nextAttemptAt" FROM "NotificationDelivery" d LEFT JOIN "Query" q ON q.name = d."groupKey"
  WHERE (q.cluster = $1 OR d.test) AND d.status = 'deferred' AND d."nextAttemptAt" <= $2::timestamp(3)
  ORDER BY d."nextAttemptAt" LIMIT 100`;
/** Deliveries of this cluster's groups ($1) and test notifications still queued since before $2, or among $3 (JSON). */
const STALE_QUEUED_SQL = `
  SELECT d.id::text AS id, d.attempts FROM "NotificationDelivery" d LEFT JOIN "Query" q ON q.name = d."groupKey"
  WHERE (q.cluster = $1 OR d.test) AND d.status = 'queued'
    AND (d."createdAt" < $2::timestamp(3) OR d.id::text IN (SELECT jsonb_array_elements_text($3::jsonb)))
  LIMIT 200`;

/** What a routing pass reads before it decides (PASS_READS_SQL). */
export interface PassReads {
  receivers: Receiver[];
  silences: Silence[];
  groups: GroupRow[];
  /** Deferred deliveries whose next round is due, oldest first. */
  due: Array<{ id: string }>;
}

/**
 * A pass's four reads ($1 the cluster, $2 now) as ONE statement, each as a JSON array (one
 * snapshot, one socket write and round trip on the API's event loop instead of four: BENCHMARKS.md,
 * 2026-12-03 15:59): the enabled receivers, the silences in force (started, not ended, not expired
 * by hand), GROUP_ROWS_SQL and DUE_DEFERRED_SQL. Whole rows as `SELECT t.*` read them; their
 * timestamps come back as JSON text and are made UTC Dates in `passReads`.
 */
const PASS_READS_SQL = `
  SELECT
    (SELECT coalesce(json_agg(r), '[]') FROM "Receiver" r WHERE r.enabled) AS receivers,
    (SELECT coalesce(json_agg(s), '[]') FROM "Silence" s
     WHERE s."startsAt" <= $2::timestamp(3) AND s."endsAt" > $2::timestamp(3) AND s."expiredAt" IS NULL) AS silences,
    (SELECT coalesce(json_agg(g), '[]') FROM (${GROUP_ROWS_SQL}) g) AS groups,
    (SELECT coalesce(json_agg(json_build_object('id', d.id) ORDER BY d."nextAttemptAt"), '[]')
     FROM (${DUE_DEFERRED_SQL}) d) AS due`;

/** A timestamp(3) as JSON text (no zone: Prisma stores UTC) → the Date Prisma's read returns. */
const utcDate = (v: string | null): Date | null => (v === null ? null : new Date(`${v}Z`));

/** The row with its `fields` (timestamps read as JSON text) made Dates. */
function withDates<T>(row: Record<string, unknown>, fields: readonly string[]): T {
  const out = { ...row };
  for (const f of fields) out[f] = utcDate(row[f] as string | null);
  return out as T;
}

const RECEIVER_DATES = ['createdAt', 'updatedAt'] as const;
const SILENCE_DATES = ['startsAt', 'endsAt', 'createdAt', 'expiredAt'] as const;

/**
 * A pass's decisions as ONE statement of data-modifying CTEs: the dropped groups ($1: JSON array of
 * {receiverId, groupKey}) deleted, the changed group states ($2: JSON array of GroupStateWrite)
 * upserted, the new deliveries ($3: JSON array of NewDelivery, payloads included; $4 the creation
 * time, as Prisma's `@default(now())` would have set it) inserted. One statement is atomic as the
 * transaction of three was (a group's state and its delivery row are still written together), and
 * costs one round trip instead of five (BEGIN … COMMIT). The dropped and the changed groups are
 * disjoint (one decision per group), so that the parts share one snapshot changes nothing.
 * Raw and set-based: Prisma's typed createMany walked every payload's JSON tree on the API's event
 * loop (one synchronous task of ~40 ms for a pass that sent a few dozen notifications, on an idle
 * box; BENCHMARKS.md, bench:alerts main-thread profile), where this is one JSON.stringify.
 */
const DECISIONS_SQL = `
  WITH dropped AS (
    DELETE FROM "NotificationGroup" WHERE ("receiverId", "groupKey") IN (
      SELECT "receiverId", "groupKey" FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text))),
  states AS (
    INSERT INTO "NotificationGroup" ("receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash")
    SELECT "receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash"
    FROM jsonb_to_recordset($2::jsonb) AS x("receiverId" uuid, "groupKey" text,
      "firstSeenAt" timestamp(3), "lastSentAt" timestamp(3), "lastHash" text)
    ON CONFLICT ("receiverId", "groupKey") DO UPDATE SET "firstSeenAt" = EXCLUDED."firstSeenAt",
      "lastSentAt" = EXCLUDED."lastSentAt", "lastHash" = EXCLUDED."lastHash")
  INSERT INTO "NotificationDelivery" (id, "receiverId", "groupKey", payload, "createdAt")
  SELECT id, "receiverId", "groupKey", payload, $4::timestamp(3)
  FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, "receiverId" uuid, "groupKey" text, payload jsonb)`;

@Injectable()
export class RoutingRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Everything a pass reads before it decides, in one statement (PASS_READS_SQL). */
  async passReads(cluster: string, now: Date): Promise<PassReads> {
    const [row] = await this.prisma.sql.rows<{
      receivers: Array<Record<string, unknown>>;
      silences: Array<Record<string, unknown>>;
      groups: GroupRow[];
      due: Array<{ id: string }>;
    }>(PASS_READS_SQL, [cluster, now.toISOString()]);
    return {
      receivers: row!.receivers.map((r) => withDates<Receiver>(r, RECEIVER_DATES)),
      silences: row!.silences.map((x) => withDates<Silence>(x, SILENCE_DATES)),
      groups: row!.groups,
      due: row!.due,
    };
  }

  /** Firing/resolved alerts of `cluster`'s queries: all of them, or of `queries` only. */
  async routedAlerts(cluster: string, queries: readonly string[] | 'all'): Promise<RoutedAlert[]> {
    return queries === 'all'
      ? this.prisma.sql.rows<RoutedAlert>(routedAlertsSql(false), [cluster])
      : this.prisma.sql.rows<RoutedAlert>(routedAlertsSql(true), [cluster, JSON.stringify(queries)]);
  }

  /** The full rows (annotations, times) of the alerts a send carries. */
  async alertsByIds(ids: readonly string[]): Promise<Alert[]> {
    if (ids.length === 0) return [];
    return this.prisma.sql.rows<Alert>(`SELECT a.* FROM "Alert" a WHERE a.id = ANY($1::uuid[])`, [ids]);
  }

  /** A pass's decisions in one statement (DECISIONS_SQL); nothing to write sends nothing. */
  async applyDecisions(w: RoutingWrites): Promise<void> {
    if (w.drops.length === 0 && w.states.length === 0 && w.deliveries.length === 0) return;
    await this.prisma.sql.execute(DECISIONS_SQL, [
      JSON.stringify(w.drops),
      JSON.stringify(w.states),
      JSON.stringify(w.deliveries),
      new Date().toISOString(),
    ]);
  }

  /** Deferred deliveries back to `queued`, in one statement (one replica wins each status change;
   * a delivery no longer deferred is left alone). */
  async requeueDeferred(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.sql.execute(
      `UPDATE "NotificationDelivery" SET status = 'queued', "nextAttemptAt" = NULL
       WHERE id = ANY($1::uuid[]) AND status = 'deferred'`,
      [ids],
    );
  }

  /** Deliveries of `cluster`'s groups (and test ones) `queued` since before `createdBefore`, or among `ids`. */
  async staleQueued(cluster: string, createdBefore: Date, ids: readonly string[]): Promise<QueuedDelivery[]> {
    return this.prisma.sql.rows<QueuedDelivery>(STALE_QUEUED_SQL, [
      cluster,
      createdBefore.toISOString(),
      JSON.stringify(ids),
    ]);
  }
}

/** A failed attempt's outcome: retried in this round, deferred to a later round, or failed for good. */
export interface FailedAttempt {
  status: 'retrying' | 'deferred' | 'failed';
  attempts: number;
  lastError: string;
  nextAttemptAt: Date | null;
}

const MARK_DELIVERED_SQL = `
  UPDATE "NotificationDelivery"
  SET status = 'delivered', attempts = $2, "httpStatus" = $3, "deliveredAt" = $4::timestamp(3), "lastError" = NULL
  WHERE id = $1::uuid`;
const MARK_FAILED_ATTEMPT_SQL = `
  UPDATE "NotificationDelivery"
  SET status = $2, attempts = $3, "lastError" = $4, "nextAttemptAt" = $5::timestamp(3)
  WHERE id = $1::uuid`;

@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /**
   * The delivery with its receiver (null when either is gone: the receiver's deletion cascades to
   * its deliveries), in one statement: each statement is a round trip on the API's event loop.
   */
  async findWithReceiver(id: string): Promise<(NotificationDelivery & { receiver: Receiver }) | null> {
    const [row] = await this.prisma.sql.rows<NotificationDelivery & { receiver: Record<string, unknown> }>(
      `SELECT d.*, to_json(r) AS receiver
       FROM "NotificationDelivery" d JOIN "Receiver" r ON r.id = d."receiverId" WHERE d.id = $1::uuid`,
      [id],
    );
    return row ? { ...row, receiver: withDates<Receiver>(row.receiver, RECEIVER_DATES) } : null;
  }

  async markDelivered(id: string, attempts: number, httpStatus: number, at: Date): Promise<void> {
    this.found(
      id,
      await this.prisma.sql.execute(MARK_DELIVERED_SQL, [id, attempts, httpStatus, at.toISOString()]),
    );
  }

  async markFailedAttempt(id: string, outcome: FailedAttempt): Promise<void> {
    const { status, attempts, lastError, nextAttemptAt } = outcome;
    this.found(
      id,
      await this.prisma.sql.execute(MARK_FAILED_ATTEMPT_SQL, [
        id,
        status,
        attempts,
        lastError,
        nextAttemptAt?.toISOString() ?? null,
      ]),
    );
  }

  /** A delivery that is gone is an error, as it was for Prisma's update (the job fails). */
  private found(id: string, updated: number): void {
    if (updated === 0) throw new Error(`notification delivery ${id} not found`);
  }
}
