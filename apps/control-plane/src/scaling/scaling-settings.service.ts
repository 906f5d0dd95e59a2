// Per-query scaling settings (policy, mode, limits, backpressure, CPU limit per instance) and the
// decision history. A new CPU limit reaches running instances through the reconciler.
import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Query, ScalingEvent } from '../generated/prisma/client';
import { QueriesService } from '../queries/queries.service';
import { QueryRepository } from '../repositories/query.repository';
import { ScalingEventRepository } from '../repositories/scaling-event.repository';
import type { ScalingBody } from './scaling.dto';
import type { Actor } from '../audit/actor';

export function scalingSettings(
  q: Pick<
    Query,
    'scalingPolicy' | 'scalingMode' | 'minInstances' | 'maxInstances' | 'backpressure' | 'cpuLimit'
  >,
) {
  return {
    policy: q.scalingPolicy,
    mode: q.scalingMode,
    minInstances: q.minInstances,
    maxInstances: q.maxInstances,
    backpressure: q.backpressure,
    cpuLimit: q.cpuLimit,
  };
}

export function scalingEventView(e: ScalingEvent) {
  return {
    id: e.id.toString(),
    at: e.at.toISOString(),
    policy: e.policy,
    mode: e.mode,
    direction: e.direction,
    fromInstances: e.fromInstances,
    toInstances: e.toInstances,
    rateLimit: e.rateLimit,
    reason: e.reason,
    inputs: e.inputs,
    acted: e.acted,
  };
}

@Injectable()
export class ScalingSettingsService {
  constructor(
    private readonly queryRepository: QueryRepository,
    private readonly scalingEvents: ScalingEventRepository,
    private readonly queries: QueriesService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get maxInstances(): number {
    return this.config.SLUICE_MAX_INSTANCES;
  }

  async get(id: string) {
    return scalingSettings(await this.queries.getOrThrow(id));
  }

  async events(id: string, limit: number) {
    await this.queries.getOrThrow(id);
    const rows = await this.scalingEvents.newest(id, limit);
    return rows.map(scalingEventView);
  }

  async update(id: string, body: ScalingBody, actor: Actor) {
    return this.queryRepository.transaction(async (tx) => {
      await this.queryRepository.lockForUpdate(id, tx);
      const q = await this.queries.getOrThrow(id, tx);
      const minInstances = body.minInstances ?? q.minInstances;
      const maxInstances = body.maxInstances === undefined ? q.maxInstances : body.maxInstances;
      if (maxInstances !== null && maxInstances < minInstances) {
        const field = body.maxInstances !== undefined ? 'maxInstances' : 'minInstances';
        const message = `maxInstances (${maxInstances}) must be >= minInstances (${minInstances})`;
        throw new BadRequestException({
          code: 'VALIDATION_FAILED',
          message: `${field}: ${message}`,
          errors: [{ path: field, message }],
        });
      }
      const after = await this.queryRepository.updateScaling(
        id,
        {
          ...(body.policy !== undefined ? { scalingPolicy: body.policy } : {}),
          ...(body.mode !== undefined ? { scalingMode: body.mode } : {}),
          minInstances,
          maxInstances,
          ...(body.backpressure !== undefined ? { backpressure: body.backpressure } : {}),
          ...(body.cpuLimit !== undefined ? { cpuLimit: body.cpuLimit } : {}),
        },
        tx,
      );
      await this.audit.record(
        {
          actor,
          action: 'query.scaling',
          target: `query/${id}`,
          before: scalingSettings(q),
          after: scalingSettings(after),
        },
        tx,
      );
      return scalingSettings(after);
    });
  }
}
