// What routing and delivery read and write, in their terms: the notification router's reads of one
// pass (receivers, silences in force, this cluster's groups and alerts, due or stale deliveries)
// and its decisions written as one transaction; the delivery processor's delivery row and its
// outcome. The set-based statements stay here (jsonb_to_recordset: one statement text whatever the
// row count; one transaction per group made routing the longest phase of an evaluation on a
// loaded database, BENCHMARKS.md).
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

@Injectable()
export class RoutingRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  async enabledReceivers(): Promise<Receiver[]> {
    return this.prisma.receiver.findMany({ where: { enabled: true } });
  }

  /** Silences in force at `now` (started, not ended, not expired by hand). */
  async activeSilences(now: Date): Promise<Silence[]> {
    return this.prisma.silence.findMany({
      where: { startsAt: { lte: now }, endsAt: { gt: now }, expiredAt: null },
    });
  }

  /** Every notification group of `cluster`'s queries with its timers. */
  async groups(cluster: string): Promise<GroupRow[]> {
    return this.prisma.$queryRawUnsafe<GroupRow[]>(GROUP_ROWS_SQL, cluster);
  }

  /** Firing/resolved alerts of `cluster`'s queries: all of them, or of `queries` only. */
  async routedAlerts(cluster: string, queries: readonly string[] | 'all'): Promise<RoutedAlert[]> {
    return queries === 'all'
      ? this.prisma.$queryRawUnsafe<RoutedAlert[]>(routedAlertsSql(false), cluster)
      : this.prisma.$queryRawUnsafe<RoutedAlert[]>(routedAlertsSql(true), cluster, JSON.stringify(queries));
  }

  /** The full rows (annotations, times) of the alerts a send carries. */
  async alertsByIds(ids: readonly string[]): Promise<Alert[]> {
    if (ids.length === 0) return [];
    return this.prisma.alert.findMany({ where: { id: { in: [...ids] } } });
  }

  /**
   * A pass's decisions as one transaction: dropped groups in one DELETE, changed group states in
   * one INSERT … ON CONFLICT, the deliveries in one INSERT (a group's state and its delivery row
   * are written together).
   */
  async applyDecisions(w: RoutingWrites): Promise<void> {
    const writes: Prisma.PrismaPromise<unknown>[] = [];
    if (w.drops.length > 0)
      writes.push(
        this.prisma.$executeRawUnsafe(
          `DELETE FROM "NotificationGroup" WHERE ("receiverId", "groupKey") IN (
             SELECT "receiverId", "groupKey" FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text))`,
          JSON.stringify(w.drops),
        ),
      );
    if (w.states.length > 0)
      writes.push(
        this.prisma.$executeRawUnsafe(
          `INSERT INTO "NotificationGroup" ("receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash")
           SELECT "receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash"
           FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text,
             "firstSeenAt" timestamp(3), "lastSentAt" timestamp(3), "lastHash" text)
           ON CONFLICT ("receiverId", "groupKey") DO UPDATE SET "firstSeenAt" = EXCLUDED."firstSeenAt",
             "lastSentAt" = EXCLUDED."lastSentAt", "lastHash" = EXCLUDED."lastHash"`,
          JSON.stringify(w.states),
        ),
      );
    if (w.deliveries.length > 0)
      writes.push(
        this.prisma.$executeRawUnsafe(
          INSERT_DELIVERIES_SQL,
          JSON.stringify(w.deliveries),
          new Date().toISOString(),
        ),
      );
    if (writes.length > 0) await this.prisma.$transaction(writes);
  }

  /** Deliveries of `cluster`'s groups (and test notifications) whose deferral ended by `now`. */
  async dueDeferred(cluster: string, now: Date): Promise<Array<{ id: string }>> {
    return this.prisma.$queryRawUnsafe<Array<{ id: string }>>(DUE_DEFERRED_SQL, cluster, now.toISOString());
  }

  /** A deferred delivery back to `queued` (one replica wins the status change; else a no-op). */
  async requeueDeferred(id: string): Promise<void> {
    await this.prisma.notificationDelivery.updateMany({
      where: { id, status: 'deferred' },
      data: { status: 'queued', nextAttemptAt: null },
    });
  }

  /** Deliveries of `cluster`'s groups (and test ones) `queued` since before `createdBefore`, or among `ids`. */
  async staleQueued(cluster: string, createdBefore: Date, ids: readonly string[]): Promise<QueuedDelivery[]> {
    return this.prisma.$queryRawUnsafe<QueuedDelivery[]>(
      STALE_QUEUED_SQL,
      cluster,
      createdBefore.toISOString(),
      JSON.stringify(ids),
    );
  }
}

/** A failed attempt's outcome: retried in this round, deferred to a later round, or failed for good. */
export interface FailedAttempt {
  status: 'retrying' | 'deferred' | 'failed';
  attempts: number;
  lastError: string;
  nextAttemptAt: Date | null;
}

@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** The delivery with its receiver (null when it is gone). */
  async findWithReceiver(id: string): Promise<(NotificationDelivery & { receiver: Receiver }) | null> {
    return this.prisma.notificationDelivery.findUnique({ where: { id }, include: { receiver: true } });
  }

  async markDelivered(id: string, attempts: number, httpStatus: number, at: Date): Promise<void> {
    await this.prisma.notificationDelivery.update({
      where: { id },
      data: { status: 'delivered', attempts, httpStatus, deliveredAt: at, lastError: null },
    });
  }

  async markFailedAttempt(id: string, outcome: FailedAttempt): Promise<void> {
    await this.prisma.notificationDelivery.update({ where: { id }, data: outcome });
  }
}
