import { ConflictException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import type { ScalingDecision, ScalingInput, ScalingPolicy } from '@sluice/scaling';
import { loadAppConfig } from '../config/app-config';
import type { Query } from '../generated/prisma/client';
import type { PartitionLag } from '../lag/lag.service';
import { ScalingLoopService } from './scaling-loop.service';

type Row = {
  at: Date;
  acted: boolean;
  inputs: Record<string, unknown>;
  direction: string;
  toInstances: number;
  rateLimit: number | null;
  reason: string;
};

function harness(opts: {
  decisions: ScalingDecision[];
  partitions?: number;
  conflict?: boolean;
  cooldownMs?: number;
}) {
  const rows: Row[] = [];
  const scaled: number[] = [];
  const rateLimits: Array<number | null> = [];
  const seen: ScalingInput[] = [];
  let nowMs = 1_000_000;
  const lag: PartitionLag[] = Array.from({ length: opts.partitions ?? 4 }, (_, p) => ({
    topic: 'src',
    partition: p,
    committedOffset: 0,
    endOffset: 100,
    recordsBehind: 100,
    secondsBehind: 2,
  }));
  const prisma = {
    queryVersion: { findUnique: async () => ({ spec: { trigger: { processingTime: '2 seconds' } } }) },
    progressEvent: { findMany: async () => [] },
    instance: { count: async () => 1 },
    scalingEvent: {
      create: async ({ data }: { data: Row }) => void rows.push(data),
      findFirst: async ({ where }: { where: { at: { gt: Date } } }) =>
        [...rows].reverse().find((r) => r.acted && r.inputs.scaled === true && r.at > where.at.gt),
      deleteMany: async () => ({ count: 0 }),
    },
  };
  let i = 0;
  const policy: ScalingPolicy = {
    name: 'sluice',
    decide: (input) => {
      seen.push(input);
      return opts.decisions[Math.min(i++, opts.decisions.length - 1)]!;
    },
  };
  const query = {
    id: 'q1',
    name: 'q',
    desiredVersion: 1,
    desiredInstances: 1,
    rateLimit: null,
    scalingPolicy: 'sluice',
    scalingMode: 'auto',
    minInstances: 1,
    maxInstances: null,
    backpressure: true,
  } as unknown as Query;
  const config = loadAppConfig({ SLUICE_SCALING_COOLDOWN_MS: String(opts.cooldownMs ?? 60_000) });
  const loop = new ScalingLoopService(
    prisma as never,
    { lagOf: async () => lag } as never,
    {
      maxInstances: 64,
      scale: async (_id: string, command: { instances: number }) => {
        if (opts.conflict) throw new ConflictException('busy');
        scaled.push(command.instances);
        query.desiredInstances = command.instances;
      },
    } as never,
    { findActiveForQuery: async () => null } as never,
    { setRateLimit: async (_id: string, v: number | null) => void rateLimits.push(v) } as never,
    { decisions: { inc: () => undefined } } as never,
    {} as never,
    config,
    { isLeader: true } as never,
  );
  (loop as unknown as { policies: Map<string, { name: string; policy: ScalingPolicy }> }).policies.set('q1', {
    name: 'sluice',
    policy,
  });
  const realNow = Date.now;
  const tick = async (advanceMs = 10_000) => {
    nowMs += advanceMs;
    Date.now = () => nowMs;
    try {
      return await loop.evaluate(query);
    } finally {
      Date.now = realNow;
    }
  };
  return { tick, rows, scaled, rateLimits, seen, query };
}

describe('ScalingLoopService.evaluate', () => {
  it('clamps to the partitions, scales once per cooldown and records every decision', async () => {
    const h = harness({
      decisions: [
        { instances: 9, reason: 'more', inputs: { x: 1 } },
        { instances: 2, reason: 'less', inputs: {} },
      ],
      partitions: 4,
      cooldownMs: 30_000,
    });
    const first = await h.tick();
    expect(first).toMatchObject({ direction: 'up', fromInstances: 1, toInstances: 4, acted: true });
    // The policy gets the configured limits; the partition cap is applied by upperBound (libs/scaling).
    expect(h.seen[0]?.limits).toEqual({ minInstances: 1, maxInstances: 64, partitions: 4 });
    expect(h.scaled).toEqual([4]);
    const second = await h.tick(10_000);
    expect(second).toMatchObject({ direction: 'down', acted: false });
    expect(second?.reason).toMatch(/cooldown/);
    await h.tick(25_000);
    expect(h.scaled).toEqual([4, 2]);
    expect(h.rows).toHaveLength(3);
    expect(h.rows[0]?.inputs).toMatchObject({
      x: 1,
      partitions: 4,
      lagRecords: 400,
      decidedInstances: 9,
      scaled: true,
    });
    expect(h.rows[0]?.reason).toMatch(/^more; clamped 9 to 4/);
  });

  it('observe mode never acts', async () => {
    const h = harness({ decisions: [{ instances: 3, rateLimit: 500, reason: 'more', inputs: {} }] });
    h.query.scalingMode = 'observe';
    expect(await h.tick()).toMatchObject({ direction: 'up', acted: false });
    expect(h.scaled).toEqual([]);
    expect(h.rateLimits).toEqual([]);
  });

  it('skips a scale when another operation is running (409)', async () => {
    const h = harness({ decisions: [{ instances: 3, reason: 'more', inputs: {} }], conflict: true });
    const out = await h.tick();
    expect(out).toMatchObject({ direction: 'up', acted: false });
    expect(out?.reason).toMatch(/another operation/);
  });

  it('sends the PID rate limit as offsets per trigger only when it changes, and lifts it', async () => {
    const h = harness({
      decisions: [
        { instances: 1, rateLimit: 500, reason: 'cap', inputs: {} },
        { instances: 1, rateLimit: 500, reason: 'cap', inputs: {} },
        { instances: 1, rateLimit: 800, reason: 'cap', inputs: {} },
        { instances: 1, reason: 'free', inputs: {} },
        { instances: 1, reason: 'free', inputs: {} },
      ],
    });
    for (let n = 0; n < 5; n++) await h.tick();
    // 2 s trigger: 500 records/s = 1000 offsets per trigger.
    expect(h.rateLimits).toEqual([1000, 1600, null]);
    expect(h.rows.map((r) => r.rateLimit)).toEqual([1000, 1000, 1600, null, null]);
  });

  it('with backpressure off no rate limit is sent', async () => {
    const h = harness({ decisions: [{ instances: 1, rateLimit: 500, reason: 'cap', inputs: {} }] });
    h.query.backpressure = false;
    await h.tick();
    expect(h.rateLimits).toEqual([]);
  });
});
