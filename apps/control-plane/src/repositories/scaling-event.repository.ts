// The scaling loop's decisions, one row per query and tick (what GET /scaling/events shows).
import { Injectable } from '@nestjs/common';
import type { Prisma, ScalingEvent } from '../generated/prisma/client';
import { PrismaRepository } from './prisma.repository';

export type DecisionValue = number | string | boolean | null;

export interface ScalingDecisionRecord {
  queryId: string;
  at: Date;
  policy: string;
  mode: string;
  direction: 'up' | 'down' | 'none';
  fromInstances: number;
  toInstances: number;
  rateLimit: number | null;
  reason: string;
  /** The figures the decision used; `scaled` says whether the instance count was changed. */
  inputs: Record<string, DecisionValue>;
  acted: boolean;
}

@Injectable()
export class ScalingEventRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  async record(decision: ScalingDecisionRecord): Promise<void> {
    await this.prisma.scalingEvent.create({ data: { ...decision, inputs: jsonSafe(decision.inputs) } });
  }

  /** When and which way the loop last changed this query's instance count after `since`; null if it did not. */
  async lastScale(queryId: string, since: Date): Promise<{ at: Date; direction: 'up' | 'down' } | null> {
    const previous = await this.prisma.scalingEvent.findFirst({
      where: { queryId, acted: true, at: { gt: since }, inputs: { path: ['scaled'], equals: true } },
      orderBy: { at: 'desc' },
      select: { at: true, direction: true },
    });
    // A scaled event changed the count: 'up' or 'down', never 'none'.
    return previous ? { at: previous.at, direction: previous.direction === 'down' ? 'down' : 'up' } : null;
  }

  /** The query's newest `limit` decisions, newest first (GET /scaling/events). */
  async newest(queryId: string, limit: number): Promise<ScalingEvent[]> {
    return this.prisma.scalingEvent.findMany({
      where: { queryId },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  async deleteBefore(before: Date): Promise<void> {
    await this.prisma.scalingEvent.deleteMany({ where: { at: { lt: before } } });
  }
}

/** Non-finite numbers (a policy dividing by zero) are stored as null rather than failing the row. */
function jsonSafe(inputs: Record<string, DecisionValue>): Prisma.InputJsonObject {
  return Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v]),
  );
}
