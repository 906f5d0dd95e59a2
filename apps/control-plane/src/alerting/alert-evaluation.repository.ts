// What the alert evaluation reads and writes, scoped to the evaluating cluster (a query is owned by
// one cluster, Query.cluster): its leader evaluates the rules of its cluster and the rules with no
// cluster, on its own cluster's queries only, and leaves another cluster's alerts and histories to
// that cluster's leader, though both share one database.
import { Injectable } from '@nestjs/common';
import { PrismaRepository } from '../repositories/prisma.repository';
import { writeStatements, type AlertWrites } from './alert-writes';
import type { StoredHistory } from './evaluation-messages';

/** The columns of Query the evaluation reads. */
const QUERY_COLUMNS = {
  id: true,
  cluster: true,
  name: true,
  phase: true,
  desiredState: true,
  lastProgressAt: true,
  conditions: true,
  crashTimes: true,
} as const;
export interface QueryRow {
  id: string;
  cluster: string | null;
  name: string;
  phase: string;
  desiredState: string;
  lastProgressAt: Date | null;
  conditions: unknown;
  crashTimes: unknown;
}
const ALERT_COLUMNS = {
  id: true,
  ruleId: true,
  queryId: true,
  queryName: true,
  state: true,
  activeAt: true,
  firedAt: true,
  resolvedAt: true,
  value: true,
  figures: true,
} as const;
/** The columns of AlertRule the evaluation reads. */
const RULE_COLUMNS = {
  id: true,
  name: true,
  kind: true,
  params: true,
  forSeconds: true,
  severity: true,
  labels: true,
  annotations: true,
  queries: true,
} as const;
export interface AlertRow {
  id: string;
  ruleId: string;
  queryId: string;
  queryName: string;
  state: string;
  activeAt: Date | null;
  firedAt: Date | null;
  resolvedAt: Date | null;
  value: number | null;
  figures: unknown;
}

/** The live queries read, split into the evaluating cluster's and the others' (ids and names). */
export interface ClusterScope<Q, A> {
  /** The evaluating cluster's live queries: the ones it evaluates. */
  queries: Q[];
  /** The alerts it owns: of its rules, minus those on another cluster's live query. */
  alerts: A[];
  /** Ids and names of the live queries it does not own (another cluster's, or not yet adopted). */
  foreign: ForeignQueries;
}

export interface ForeignQueries {
  ids: ReadonlySet<string>;
  names: ReadonlySet<string>;
}

export const NO_FOREIGN_QUERIES: ForeignQueries = { ids: new Set(), names: new Set() };

/**
 * Splits what was read by owner. A rule with no cluster is shared by every cluster's leader, so its
 * alerts are too: each leader keeps those on its own queries, plus those on queries no longer live
 * (deleted: whichever leader sees them first resolves them), and leaves the rest alone.
 */
export function clusterScope<
  Q extends { id: string; name: string; cluster: string | null },
  A extends { queryId: string },
>(cluster: string, live: readonly Q[], alerts: readonly A[]): ClusterScope<Q, A> {
  const queries: Q[] = [];
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const q of live) {
    if (q.cluster === cluster) queries.push(q);
    else {
      ids.add(q.id);
      names.add(q.name);
    }
  }
  return { queries, alerts: alerts.filter((a) => !ids.has(a.queryId)), foreign: { ids, names } };
}

@Injectable()
export class AlertEvaluationRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /**
   * One parallel round: the rules `cluster` evaluates, every live query, and those rules' alerts.
   * Without SLUICE_CLUSTER_NAME (`cluster` undefined) every rule is read, as before rules had one.
   */
  async read(cluster: string | undefined) {
    const inScope = { OR: [{ cluster: null }, { cluster }] };
    const [rules, live, alerts] = await Promise.all([
      this.prisma.alertRule.findMany({ where: { enabled: true, ...inScope }, select: RULE_COLUMNS }),
      this.prisma.query.findMany({ where: { deletedAt: null }, select: QUERY_COLUMNS }) as Promise<
        QueryRow[]
      >,
      // Only this cluster's rules' alerts: another cluster's leader on the same database owns its own.
      this.prisma.alert.findMany({ where: { rule: inScope }, select: ALERT_COLUMNS }) as Promise<AlertRow[]>,
    ]);
    return { rules, live, alerts };
  }

  /** The per-query histories the last leader saved (a new thread or leadership continues them). */
  async storedHistories(): Promise<StoredHistory[]> {
    return (await this.prisma.alertQueryHistory.findMany({
      select: { queryId: true, state: true },
    })) as StoredHistory[];
  }

  /** Upserts one chunk of histories (set-based: one statement). */
  async saveHistories(rows: ReadonlyArray<StoredHistory & { savedAt: string }>): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `INSERT INTO "AlertQueryHistory" ("queryId", "state", "savedAt")
         SELECT "queryId", "state", "savedAt"
         FROM jsonb_to_recordset($1::jsonb) AS x("queryId" uuid, "state" jsonb, "savedAt" timestamp(3))
         ON CONFLICT ("queryId") DO UPDATE SET "state" = EXCLUDED."state", "savedAt" = EXCLUDED."savedAt"`,
      JSON.stringify(rows),
    );
  }

  /** Drops the histories of every query not in `live` (deleted ones). */
  async dropHistoriesExcept(live: readonly string[]): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `DELETE FROM "AlertQueryHistory" WHERE NOT ("queryId" = ANY($1::uuid[]))`,
      live,
    );
  }

  /** One chunk of alert changes in one transaction: an alert's row and its transition together. */
  async write(chunk: AlertWrites): Promise<void> {
    const statements = writeStatements(this.prisma, chunk);
    if (statements.length > 0) await this.prisma.$transaction(statements);
  }
}
