// The loop over in-memory typed fakes (test/support/fakes.ts) and a fake clock: what it gathers,
// what it records, and when it acts. The post-policy rules themselves are scale-action.spec.ts's.
import { SchedulerRegistry } from '@nestjs/schedule';
import { describe, expect, it } from 'vitest';
import type { ScalingDecision, ScalingInput } from '@sluice/scaling';
import { loadAppConfig } from '../config/app-config';
import type { PartitionLag } from '../lag/lag.service';
import { MetricsRegistry } from '../metrics/metrics.registry';
import {
  FakeClock,
  FakeControl,
  FakeLag,
  FakeLeadership,
  FakeOperations,
  FakePolicies,
  FakeScaler,
  InMemoryInstanceRepository,
  InMemoryProgressRepository,
  InMemoryQueryRepository,
  InMemoryScalingEventRepository,
  operationRow,
  queryRow,
  FAKE_CLUSTER,
} from '../../test/support/fakes';
import { ScalingLoopService } from './scaling-loop.service';
import { ScalingMetrics } from './scaling-metrics';

const SPEC = { specText: 'name: q', spec: { trigger: { processingTime: '2 seconds' } } };

function partitions(n: number): PartitionLag[] {
  return Array.from({ length: n }, (_, p) => ({
    topic: 'src',
    partition: p,
    committedOffset: 0,
    endOffset: 100,
    recordsBehind: 100,
    secondsBehind: 2,
  }));
}

function harness(opts: {
  decisions: ScalingDecision[];
  partitions?: number;
  cooldownMs?: number;
  upHoldMs?: number;
}) {
  const clock = new FakeClock();
  const instances = new InMemoryInstanceRepository(clock);
  const queries = new InMemoryQueryRepository(instances);
  const events = new InMemoryScalingEventRepository();
  const lag = new FakeLag();
  const scaler = new FakeScaler(queries);
  const operations = new FakeOperations();
  const control = new FakeControl();
  const policies = new FakePolicies();
  const metrics = new MetricsRegistry();
  const seen: ScalingInput[] = [];
  let i = 0;
  policies.byName.set('sluice', {
    name: 'sluice',
    decide: (input) => {
      seen.push(input);
      return opts.decisions[Math.min(i++, opts.decisions.length - 1)]!;
    },
  });
  const query = queries.add(queryRow({ name: 'q', scalingMode: 'auto' }), SPEC);
  lag.partitions.set(query.id, partitions(opts.partitions ?? 4));
  const config = loadAppConfig({
    SLUICE_SCALING_COOLDOWN_MS: String(opts.cooldownMs ?? 60_000),
    ...(opts.upHoldMs !== undefined && { SLUICE_SCALING_UP_HOLD_MS: String(opts.upHoldMs) }),
    SLUICE_CLUSTER_NAME: FAKE_CLUSTER,
  });
  const progress = new InMemoryProgressRepository();
  const loop = new ScalingLoopService(
    queries,
    instances,
    progress,
    events,
    lag,
    scaler,
    operations,
    control,
    new ScalingMetrics(metrics),
    new SchedulerRegistry(),
    config,
    new FakeLeadership(),
    clock,
    policies,
  );
  /** One decision for the query as it is stored now, `advanceMs` after the previous one. */
  const tick = async (advanceMs = 10_000) => {
    clock.advance(advanceMs);
    const q = await queries.find(query.id);
    if (!q) throw new Error('query vanished');
    return loop.evaluate(q);
  };
  const setQuery = (fields: Partial<typeof query>) => {
    const q = queries.queries.get(query.id);
    if (q) queries.queries.set(query.id, { ...q, ...fields });
  };
  return {
    tick,
    loop,
    events,
    scaler,
    control,
    operations,
    seen,
    query,
    setQuery,
    lag,
    metrics,
    clock,
    instances,
    progress,
  };
}

/** Starts `name` in the harness's instance repository and observes it RUNNING. */
async function startRunning(h: ReturnType<typeof harness>, name: string): Promise<void> {
  await h.instances.recordStarting(h.query.id, name, { runtime: 'local', at: h.clock.now(), restarts: 0 });
  const row = (await h.instances.listForQuery(h.query.id)).find((r) => r.name === name)!;
  await h.instances.recordObserved(row.id, {
    status: 'RUNNING',
    exitCode: null,
    runtimeRef: null,
    lastSeenAt: h.clock.now(),
    cpuLimit: null,
  });
}

/** A progress report of `instance` whose trigger starts now. */
function reportOf(h: ReturnType<typeof harness>, instance: string) {
  return {
    timestamp: h.clock.now(),
    instance,
    runId: `run-${instance}`,
    numInputRows: 100,
    batchDurationMs: 200,
    payload: {},
  };
}

describe('ScalingLoopService.evaluate', () => {
  it('lets a scale-up follow any scale action after the shorter wait, and holds a scale-down for the cooldown', async () => {
    const h = harness({
      decisions: [
        { instances: 2, reason: 'more', inputs: {} },
        { instances: 4, reason: 'more still', inputs: {} },
        { instances: 4, reason: 'more still', inputs: {} },
        { instances: 1, reason: 'less', inputs: {} },
        { instances: 1, reason: 'less', inputs: {} },
        { instances: 3, reason: 'back up', inputs: {} },
        { instances: 3, reason: 'back up', inputs: {} },
      ],
      partitions: 4,
      cooldownMs: 60_000,
      upHoldMs: 15_000,
    });
    expect(await h.tick()).toMatchObject({ fromInstances: 1, toInstances: 2, acted: true });
    const held = await h.tick(10_000);
    expect(held).toMatchObject({ fromInstances: 2, toInstances: 4, acted: false });
    expect(held?.reason).toMatch(/cooldown: last scale action \(up\) 10 s ago \(< 15 s before a scale-up\)/);
    expect(await h.tick(10_000)).toMatchObject({ fromInstances: 2, toInstances: 4, acted: true });
    // 4 → 1 twenty seconds after the scale-up: a scale-down waits the whole cooldown.
    const reversal = await h.tick(20_000);
    expect(reversal).toMatchObject({ direction: 'down', acted: false });
    expect(reversal?.reason).toMatch(/cooldown: last scale action \(up\) 20 s ago \(< 60 s\)/);
    expect(await h.tick(40_000)).toMatchObject({ fromInstances: 4, toInstances: 1, acted: true });
    // The load comes back 10 s later: held 15 s, not the cooldown, then up.
    expect(await h.tick(10_000)).toMatchObject({ direction: 'up', acted: false });
    expect(await h.tick(5_000)).toMatchObject({ fromInstances: 1, toInstances: 3, acted: true });
    expect(h.scaler.requests.map((r) => r.instances)).toEqual([2, 4, 1, 3]);
  });

  it('tells the policy ready only the running instances whose current process has reported progress', async () => {
    const h = harness({ decisions: [{ instances: 2, reason: 'hold', inputs: {} }] });
    h.setQuery({ desiredInstances: 2 });
    await startRunning(h, 'q-0');
    h.clock.advance(1_000);
    h.progress.batches.set(h.query.id, [reportOf(h, 'q-0')]);
    await startRunning(h, 'q-1');
    // Both processes are up; only q-0 has read since it started.
    await h.tick();
    expect(h.seen[0]?.readyInstances).toBe(1);
    h.progress.batches.get(h.query.id)!.push(reportOf(h, 'q-1'));
    await h.tick();
    expect(h.seen[1]?.readyInstances).toBe(2);
  });

  it('tells the policy ready the running instances the Stable consumer group holds, before they report', async () => {
    const h = harness({ decisions: [{ instances: 2, reason: 'hold', inputs: {} }] });
    h.setQuery({ desiredInstances: 2 });
    await startRunning(h, 'q-0');
    await startRunning(h, 'q-1');
    h.clock.advance(1_000);
    h.progress.batches.set(h.query.id, [reportOf(h, 'q-0')]);
    await h.tick();
    expect(h.seen[0]?.readyInstances).toBe(1);
    // q-1 has joined: the group is Stable with both; q-1's first batch has not ended.
    h.lag.joined.set(h.query.id, new Set(['q-0', 'q-1']));
    await h.tick();
    expect(h.seen[1]?.readyInstances).toBe(2);
  });

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
    expect(h.scaler.requests).toEqual([{ queryId: h.query.id, instances: 4, actor: 'system/scaling-loop' }]);
    const second = await h.tick(10_000);
    expect(second).toMatchObject({ direction: 'down', acted: false });
    expect(second?.reason).toMatch(/cooldown/);
    await h.tick(25_000);
    expect(h.scaler.requests.map((r) => r.instances)).toEqual([4, 2]);
    expect(h.events.events).toHaveLength(3);
    expect(h.events.events[0]?.inputs).toMatchObject({
      x: 1,
      partitions: 4,
      lagRecords: 400,
      decidedInstances: 9,
      scaled: true,
    });
    expect(h.events.events[0]?.reason).toMatch(/^more; clamped 9 to 4/);
    // Each decision is stamped with the clock's time, 10 s and then 25 s apart.
    const at = h.events.events.map((e) => e.at.getTime());
    expect([at[1]! - at[0]!, at[2]! - at[1]!]).toEqual([10_000, 25_000]);
  });

  it('observe mode never acts', async () => {
    const h = harness({ decisions: [{ instances: 3, rateLimit: 500, reason: 'more', inputs: {} }] });
    h.setQuery({ scalingMode: 'observe' });
    expect(await h.tick()).toMatchObject({ direction: 'up', acted: false });
    expect(h.scaler.requests).toEqual([]);
    expect(h.control.sent).toEqual([]);
    expect(h.events.events[0]).toMatchObject({ mode: 'observe', direction: 'up', acted: false });
  });

  it('skips a scale when another operation is running (409)', async () => {
    const h = harness({ decisions: [{ instances: 3, reason: 'more', inputs: {} }] });
    h.scaler.busy = true;
    const out = await h.tick();
    expect(out).toMatchObject({ direction: 'up', acted: false });
    expect(out?.reason).toMatch(/another operation/);
  });

  it('holds back while an operation of the query is active, without asking to scale', async () => {
    const h = harness({ decisions: [{ instances: 3, reason: 'more', inputs: {} }] });
    h.operations.active.set(
      h.query.id,
      operationRow({ queryId: h.query.id, type: 'deploy', state: 'RUNNING' }),
    );
    const out = await h.tick();
    expect(out).toMatchObject({ direction: 'up', acted: false });
    expect(h.scaler.requests).toEqual([]);
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
    expect(h.control.sent.map((c) => c.maxOffsetsPerTrigger)).toEqual([1000, 1600, null]);
    expect(h.events.events.map((r) => r.rateLimit)).toEqual([1000, 1000, 1600, null, null]);
  });

  it('with backpressure off no rate limit is sent', async () => {
    const h = harness({ decisions: [{ instances: 1, rateLimit: 500, reason: 'cap', inputs: {} }] });
    h.setQuery({ backpressure: false });
    await h.tick();
    expect(h.control.sent).toEqual([]);
  });

  it('decides nothing before the source topic exists (no partitions)', async () => {
    const h = harness({ decisions: [{ instances: 3, reason: 'more', inputs: {} }], partitions: 0 });
    expect(await h.tick()).toBeUndefined();
    expect(h.events.events).toEqual([]);
    expect(h.seen).toEqual([]);
  });

  it('a tick decides for every query meant to run, counts decisions and trims a week-old history', async () => {
    const h = harness({ decisions: [{ instances: 1, reason: 'steady', inputs: {} }] });
    await h.tick();
    // A week and an hour later: the first decision is past the retention and goes on the next trim.
    await h.tick(7 * 24 * 3_600_000 + 3_600_000);
    await h.loop.tick();
    expect(h.events.events.map((e) => e.reason)).toEqual(['steady', 'steady']);
    const counted = await h.metrics.registry.getSingleMetric('sluice_scaling_decisions_total')?.get();
    expect(counted?.values.find((v) => v.labels.direction === 'none')?.value).toBe(3);
  });
});

describe('ScalingLoopService.sampleLag', () => {
  it('adds lag reads between ticks to the history the next decision reads, in time order', async () => {
    const h = harness({ decisions: [{ instances: 1, reason: 'hold', inputs: {} }], partitions: 2 });
    const at = (endOffset: number) => partitions(2).map((p) => ({ ...p, endOffset }));
    await h.tick();
    // A query no tick has seen yet is not read between ticks.
    const read: string[] = [];
    const lagOf = h.lag.lagOf.bind(h.lag);
    h.lag.lagOf = (id) => {
      read.push(id);
      return lagOf(id);
    };
    h.lag.partitions.set('never-ticked', at(1));
    for (const [end, advanceMs] of [
      [200, 5_000],
      [400, 3_000],
    ] as const) {
      h.lag.partitions.set(h.query.id, at(end));
      h.clock.advance(advanceMs);
      await h.loop.sampleLag();
    }
    h.lag.partitions.set(h.query.id, at(900));
    await h.tick(2_000);
    const lag = h.seen[1]?.lag ?? [];
    expect(lag.map((l) => l.endOffsets)).toEqual([200, 400, 800, 1800]);
    const times = lag.map((l) => l.timeMs);
    expect(times.map((t) => t - times[0]!)).toEqual([0, 5_000, 8_000, 10_000]);
    expect(read.filter((id) => id === 'never-ticked')).toEqual([]);
    expect(read.filter((id) => id === h.query.id).length).toBe(3);
  });
});
