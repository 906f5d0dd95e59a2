// Engine instance rows: what the reconciler observed of each instance, and what it started,
// drained or forgot.
import { Injectable } from '@nestjs/common';
import { Prisma, type Instance, type InstanceStatus } from '../generated/prisma/client';
import type { CpuLimitReport } from '../runtime/cpu-limit';
import { PrismaRepository } from './prisma.repository';

export interface ObservedInstanceRow {
  status: InstanceStatus;
  exitCode: number | null;
  runtimeRef: string | null;
  lastSeenAt: Date;
  /** The CPU limit as the runtime applied it, or why not; null = none asked for. */
  cpuLimit: CpuLimitReport | null;
}

@Injectable()
export class InstanceRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  async listForQuery(queryId: string): Promise<Instance[]> {
    return this.prisma.instance.findMany({ where: { queryId } });
  }

  /** What the runtime showed of an instance this pass. */
  async recordObserved(id: string, observed: ObservedInstanceRow): Promise<void> {
    const { cpuLimit, ...rest } = observed;
    await this.prisma.instance.update({
      where: { id },
      data: { ...rest, cpuLimit: cpuLimit === null ? Prisma.DbNull : { ...cpuLimit } },
    });
  }

  /**
   * An instance just (re)started: STARTING since `at`. `restarts` counts restarts after a crash;
   * a first start creates the row.
   */
  async recordStarting(
    queryId: string,
    name: string,
    start: { runtime: string; at: Date; restarts: number },
  ): Promise<void> {
    await this.prisma.instance.upsert({
      where: { queryId_name: { queryId, name } },
      create: { queryId, name, runtime: start.runtime, status: 'STARTING' },
      update: { status: 'STARTING', startedAt: start.at, exitCode: null, restarts: start.restarts },
    });
  }

  async recordDraining(queryId: string, name: string): Promise<void> {
    await this.prisma.instance.updateMany({ where: { queryId, name }, data: { status: 'DRAINING' } });
  }

  async forget(queryId: string, name: string): Promise<void> {
    await this.prisma.instance.deleteMany({ where: { queryId, name } });
  }
}
