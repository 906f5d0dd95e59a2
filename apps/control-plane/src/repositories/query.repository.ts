// Queries and their versions, read and written in the terms the domain uses (the reconciler, the
// scaling loop and the queries service name what they need here instead of calling Prisma).
// Methods that run inside a caller's transaction take it as the last argument.
import { Injectable } from '@nestjs/common';
import type { Instance, Prisma, Query, QueryPhase, QueryVersion } from '../generated/prisma/client';
import { PrismaRepository } from './prisma.repository';

export type Tx = Prisma.TransactionClient;
export type QueryWithInstances = Query & { instances: Instance[] };

/** What a new version stores: the compiled spec, its plan and the plan hash (libs/query-plan). */
export interface NewVersion {
  queryId: string;
  version: number;
  specText: string;
  spec: unknown;
  plan: unknown;
  planHash: string;
  createdBy: string;
}

/** A reconcile pass's status write (phase, conditions, crash history, observed generation). */
export interface QueryStatus {
  phase: QueryPhase;
  /** Kubernetes-style conditions as stored (reconcile/conditions.ts defines them). */
  conditions: readonly object[];
  /** Recent abnormal exits, ISO timestamps. */
  crashTimes: string[];
  observedGeneration?: number;
}

/** The good-version columns a recorded good pair changes. */
export type GoodVersionsChange = Pick<Query, 'lastGoodVersion' | 'lastGoodCheckpointEpoch'> &
  Partial<Pick<Query, 'previousGoodVersion' | 'previousGoodCheckpointEpoch'>>;

/** The scaling settings a request may change; an absent field is left as it is. */
export type ScalingSettingsChange = Partial<
  Pick<Query, 'scalingPolicy' | 'scalingMode' | 'minInstances' | 'maxInstances' | 'backpressure' | 'cpuLimit'>
>;

@Injectable()
export class QueryRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Runs `work` in one database transaction; the repositories' `tx` arguments take its client. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(work);
  }

  /** Every query of `cluster` not deleted, oldest first. */
  async listLive(cluster: string): Promise<Query[]> {
    return this.prisma.query.findMany({ where: { deletedAt: null, cluster }, orderBy: { createdAt: 'asc' } });
  }

  /** Ids of every query of `cluster` not deleted: what its resync reconciles. */
  async listLiveIds(cluster: string): Promise<string[]> {
    const rows = await this.prisma.query.findMany({
      where: { deletedAt: null, cluster },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  /**
   * Ids of `cluster`'s queries after `afterId` (every one, deleted included: a deleted query's
   * progress stays until the row goes), in id order, at most `limit`: a page of a round-robin pass.
   */
  async pageIds(cluster: string, afterId: string | null, limit: number): Promise<string[]> {
    const rows = await this.prisma.query.findMany({
      where: { cluster, ...(afterId ? { id: { gt: afterId } } : {}) },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /** Queries of `cluster` meant to run (not deleted, desired RUNNING): what its scaling loop and lag poll watch. */
  async listWantedRunning(cluster: string): Promise<Query[]> {
    return this.prisma.query.findMany({ where: { deletedAt: null, desiredState: 'RUNNING', cluster } });
  }

  /**
   * Makes `cluster` the owner of the queries registered before queries had one (cluster null) whose
   * instances, if any, all ran on `runtime`: a local cluster does not take a Kubernetes cluster's
   * queries. One statement, so of two leaders adopting at once each query goes to exactly one.
   * Returns how many were adopted.
   */
  async adoptUnowned(cluster: string, runtime: string): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE "Query" q SET cluster = ${cluster}
      WHERE q.cluster IS NULL
        AND NOT EXISTS (SELECT 1 FROM "Instance" i WHERE i."queryId" = q.id AND i.runtime <> ${runtime})`;
  }

  /** The query (deleted or not) with its instance rows; null when there is none. */
  async findWithInstances(id: string, tx: Tx = this.prisma): Promise<QueryWithInstances | null> {
    return tx.query.findUnique({ where: { id }, include: { instances: true } });
  }

  async find(id: string, tx: Tx = this.prisma): Promise<Query | null> {
    return tx.query.findUnique({ where: { id } });
  }

  /** The query (deleted or not); throws when there is no row (a caller that already knows it exists). */
  async findOrThrow(id: string, tx: Tx = this.prisma): Promise<Query> {
    return tx.query.findUniqueOrThrow({ where: { id } });
  }

  /** The query's name, or null when there is no such query (the progress ingest's metric labels). */
  async nameOf(id: string): Promise<string | null> {
    const q = await this.prisma.query.findUnique({ where: { id }, select: { name: true } });
    return q?.name ?? null;
  }

  /** Writes the query's last (and previous) good version pairs (operations/good-versions.ts decides them). */
  async recordGoodVersions(id: string, change: GoodVersionsChange, tx: Tx = this.prisma): Promise<void> {
    await tx.query.update({ where: { id }, data: change });
  }

  /** Changes the query's scaling settings (the caller holds its row lock in `tx`). */
  async updateScaling(id: string, settings: ScalingSettingsChange, tx: Tx): Promise<Query> {
    return tx.query.update({ where: { id }, data: settings });
  }

  async findByName(name: string, tx: Tx = this.prisma): Promise<Query | null> {
    return tx.query.findUnique({ where: { name } });
  }

  /**
   * Locks the query row until `tx` ends (concurrent mutations of one query serialise here, so a
   * check made after it, such as "no active operation", is race-free) and reads it.
   */
  async lockForUpdate(id: string, tx: Tx): Promise<QueryWithInstances | null> {
    await tx.$queryRaw`SELECT id FROM "Query" WHERE id = ${id}::uuid FOR UPDATE`;
    return this.findWithInstances(id, tx);
  }

  /** Registers a query by name, owned by `cluster`; deployed (desired RUNNING) or not. */
  async register(name: string, deploy: boolean, cluster: string, tx: Tx): Promise<Query> {
    return tx.query.create({
      data: {
        name,
        cluster,
        desiredState: deploy ? 'RUNNING' : 'STOPPED',
        phase: deploy ? 'DEPLOYING' : 'STOPPED',
      },
    });
  }

  /** Applies a change of desired state and bumps `generation` (what the reconciler converges to). */
  async changeDesired(id: string, change: Prisma.QueryUpdateInput, tx: Tx): Promise<Query> {
    return tx.query.update({ where: { id }, data: { ...change, generation: { increment: 1 } } });
  }

  /**
   * Writes a reconcile pass's status, only if the query is still at `generation` (no mutation landed
   * since the pass read it). False when a mutation did: the pass worked from an old desired state.
   */
  async recordStatus(id: string, generation: number, status: QueryStatus): Promise<boolean> {
    const written = await this.prisma.query.updateMany({
      where: { id, generation },
      data: { ...status, conditions: status.conditions as Prisma.InputJsonArray },
    });
    return written.count > 0;
  }

  /**
   * Marks the query deleted (its delete operation's last step) and frees its name for a new query:
   * the row stays, renamed `deleted-<id>`, for the audit log and operations that refer to it.
   */
  async markDeleted(id: string): Promise<void> {
    await this.prisma.query.update({ where: { id }, data: { deletedAt: new Date(), name: `deleted-${id}` } });
  }

  async addVersion(v: NewVersion, tx: Tx): Promise<void> {
    await tx.queryVersion.create({
      data: {
        queryId: v.queryId,
        version: v.version,
        specText: v.specText,
        spec: v.spec as Prisma.InputJsonValue,
        plan: v.plan as Prisma.InputJsonValue,
        planHash: v.planHash,
        createdBy: v.createdBy,
      },
    });
  }

  async findVersion(queryId: string, version: number, tx: Tx = this.prisma): Promise<QueryVersion | null> {
    return tx.queryVersion.findUnique({ where: { queryId_version: { queryId, version } } });
  }

  async latestVersion(queryId: string, tx: Tx = this.prisma): Promise<QueryVersion | null> {
    return tx.queryVersion.findFirst({ where: { queryId }, orderBy: { version: 'desc' } });
  }

  /** The named versions of a query that exist (a missing one is simply absent). */
  async findVersions(queryId: string, versions: number[]): Promise<QueryVersion[]> {
    return this.prisma.queryVersion.findMany({ where: { queryId, version: { in: versions } } });
  }

  /** Every version of a query, oldest first. */
  async listVersions(queryId: string): Promise<QueryVersion[]> {
    return this.prisma.queryVersion.findMany({ where: { queryId }, orderBy: { version: 'asc' } });
  }
}
