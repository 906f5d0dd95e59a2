import { Injectable } from '@nestjs/common';
import type { Operation, Prisma } from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';
import type { OperationStep, OperationType } from './operation-types';

const ACTIVE = ['QUEUED', 'RUNNING'] as const;

@Injectable()
export class OperationRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** The query's oldest queued or running operation; null when none is active. */
  async findActiveForQuery(
    queryId: string,
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<Operation | null> {
    return tx.operation.findFirst({
      where: { queryId, state: { in: [...ACTIVE] } },
      orderBy: { createdAt: 'asc' },
    });
  }

  async create(
    input: {
      queryId: string;
      type: OperationType;
      params: Record<string, unknown>;
      requestedBy: string;
      steps: OperationStep[];
    },
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<Operation> {
    return tx.operation.create({
      data: {
        queryId: input.queryId,
        type: input.type,
        params: input.params as Prisma.InputJsonValue,
        requestedBy: input.requestedBy,
        steps: input.steps as unknown as Prisma.InputJsonValue,
      },
    });
  }

  get(id: string) {
    return this.prisma.operation.findUnique({ where: { id } });
  }

  listForQuery(queryId: string, limit: number) {
    return this.prisma.operation.findMany({
      where: { queryId },
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
  }

  /**
   * Queued or running operations of `cluster`'s queries, oldest first: what its recovery sweep
   * brings back (another cluster's operations run in that cluster's runtime, by its leader).
   */
  listActive(cluster: string) {
    return this.prisma.operation.findMany({
      where: { state: { in: [...ACTIVE] }, query: { cluster } },
      orderBy: { createdAt: 'asc' },
    });
  }

  update(id: string, data: Prisma.OperationUpdateInput) {
    return this.prisma.operation.update({ where: { id }, data });
  }
}
