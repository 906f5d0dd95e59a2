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
import type { SqlStatement } from '../repositories/sql-pool';

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
  SELECT d.id::text AS id FROM "NotificationDelivery" d LEFT JOIN "Query" q ON q.name = d."groupKey"
  WHERE (q.cluster = $1 OR d.test) AND d.status = 'deferred' AND d."nextAttemptAt" <= $2::timestamp(3)
  ORDER BY d."nextAttemptAt" LIMIT 100`;
/** Deliveries of this cluster's groups ($1) and test notifications still queued since before $2, or among $3 (JSON). */
const STALE_QUEUED_SQL = `
  SELECT d.id::text AS id, d.attempts FROM "NotificationDelivery" d LEFT JOIN "Query" q ON q.name = d."groupKey"
  WHERE (q.cluster = $1 OR d.test) AND d.status = 'queued'
    AND (d."createdAt" < $2::timestamp(3) OR d.id::text IN (SELECT jsonb_array_elements_text($3::jsonb)))
  LIMIT 200`;

/**
 * The pass's new deliveries ($1: JSON array of NewDelivery, payloads included; $2 the creation
 * time, as Prisma's `@default(now())` would have set it). Raw and set-based like the other writes
 * of a pass: Prisma's typed createMany walked every payload's JSON tree on the API's event loop
 * (one synchronous task of ~40 ms for a pass that sent a few dozen notifications, on an idle box;
 * BENCHMARKS.md, bench:alerts main-thread profile), where this is one JSON.stringify.
 */
const INSERT_DELIVERIES_SQL = `
  INSERT INTO "NotificationDelivery" (id, "receiverId", "groupKey", payload, "createdAt")
  SELECT id, "receiverId", "groupKey", payload, $2::timestamp(3)
  FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, "receiverId" uuid, "groupKey" text, payload jsonb)`;

/** The pass's dropped groups ($1: JSON array of {receiverId, groupKey}). */
const DROP_GROUPS_SQL = `
  DELETE FROM "NotificationGroup" WHERE ("receiverId", "groupKey") IN (
    SELECT "receiverId", "groupKey" FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text))`;

/** The pass's changed group states ($1: JSON array of GroupStateWrite). */
const UPSERT_GROUPS_SQL = `
  INSERT INTO "NotificationGroup" ("receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash")
  SELECT "receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash"
  FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text,
    "firstSeenAt" timestamp(3), "lastSentAt" timestamp(3), "lastHash" text)
  ON CONFLICT ("receiverId", "groupKey") DO UPDATE SET "firstSeenAt" = EXCLUDED."firstSeenAt",
    "lastSentAt" = EXCLUDED."lastSentAt", "lastHash" = EXCLUDED."lastHash"`;

@Injectable()
export class RoutingRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  async enabledReceivers(): Promise<Receiver[]> {
    return this.prisma.sql.rows<Receiver>(`SELECT r.* FROM "Receiver" r WHERE r.enabled`);
  }

  /** Silences in force at `now` (started, not ended, not expired by hand). */
  async activeSilences(now: Date): Promise<Silence[]> {
    return this.prisma.sql.rows<Silence>(
      `SELECT s.* FROM "Silence" s
       WHERE s."startsAt" <= $1::timestamp(3) AND s."endsAt" > $1::timestamp(3) AND s."expiredAt" IS NULL`,
      [now.toISOString()],
    );
  }

  /** Every notification group of `cluster`'s queries with its timers. */
  async groups(cluster: string): Promise<GroupRow[]> {
    return this.prisma.sql.rows<GroupRow>(GROUP_ROWS_SQL, [cluster]);
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

  /**
   * A pass's decisions as one transaction: dropped groups in one DELETE, changed group states in
   * one INSERT … ON CONFLICT, the deliveries in one INSERT (a group's state and its delivery row
   * are written together).
   */
  async applyDecisions(w: RoutingWrites): Promise<void> {
    const writes: SqlStatement[] = [];
    if (w.drops.length > 0) writes.push({ text: DROP_GROUPS_SQL, values: [JSON.stringify(w.drops)] });
    if (w.states.length > 0) writes.push({ text: UPSERT_GROUPS_SQL, values: [JSON.stringify(w.states)] });
    if (w.deliveries.length > 0)
      writes.push({
        text: INSERT_DELIVERIES_SQL,
        values: [JSON.stringify(w.deliveries), new Date().toISOString()],
      });
    await this.prisma.sql.transaction(writes);
  }

  /** Deliveries of `cluster`'s groups (and test notifications) whose deferral ended by `now`. */
  async dueDeferred(cluster: string, now: Date): Promise<Array<{ id: string }>> {
    return this.prisma.sql.rows<{ id: string }>(DUE_DEFERRED_SQL, [cluster, now.toISOString()]);
  }

  /** A deferred delivery back to `queued` (one replica wins the status change; else a no-op). */
  async requeueDeferred(id: string): Promise<void> {
    await this.prisma.sql.execute(
      `UPDATE "NotificationDelivery" SET status = 'queued', "nextAttemptAt" = NULL
       WHERE id = $1::uuid AND status = 'deferred'`,
      [id],
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

  /** The delivery with its receiver (null when it is gone). */
  async findWithReceiver(id: string): Promise<(NotificationDelivery & { receiver: Receiver }) | null> {
    const [delivery] = await this.prisma.sql.rows<NotificationDelivery>(
      `SELECT d.* FROM "NotificationDelivery" d WHERE d.id = $1::uuid`,
      [id],
    );
    if (!delivery) return null;
    const [receiver] = await this.prisma.sql.rows<Receiver>(
      `SELECT r.* FROM "Receiver" r WHERE r.id = $1::uuid`,
      [delivery.receiverId],
    );
    // The receiver's deletion cascades to its deliveries: between the two reads, the delivery went too.
    return receiver ? { ...delivery, receiver } : null;
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
