// The reconciler's I/O around decideReconcile, over in-memory typed fakes (test/support/fakes.ts)
// and a fake clock: what it starts, what it writes and when it writes nothing. The decision rules
// are reconcile-decision.spec.ts's; the real runtime and database are reconcile's integration tests.
import { SchedulerRegistry } from '@nestjs/schedule';
import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../config/app-config';
import {
  FakeClock,
  FakeLag,
  FakeLeadership,
  FakeRuntime,
  FakeSinkConnections,
  InMemoryInstanceRepository,
  InMemoryProgressRepository,
  InMemoryQueryRepository,
  queryRow,
  FAKE_CLUSTER,
} from '../../test/support/fakes';
import { ReconcilerService } from './reconciler.service';

const SPEC = { specText: 'name: orders', spec: { trigger: { processingTime: '1 second' } } };

function harness() {
  const clock = new FakeClock();
  const instances = new InMemoryInstanceRepository(clock);
  const queries = new InMemoryQueryRepository(instances);
  const runtime = new FakeRuntime();
  const leadership = new FakeLeadership();
  const lag = new FakeLag();
  const progress = new InMemoryProgressRepository();
  const reconciler = new ReconcilerService(
    queries,
    instances,
    runtime,
    loadAppConfig({ SLUICE_INSTANCE_SETTLE_MS: '3000', SLUICE_CLUSTER_NAME: FAKE_CLUSTER }),
    new SchedulerRegistry(),
    new FakeSinkConnections(),
    leadership,
    lag,
    clock,
    progress,
  );
  const query = queries.add(queryRow({ name: 'orders', desiredInstances: 2, phase: 'DEPLOYING' }), SPEC);
  return { clock, instances, queries, runtime, leadership, lag, progress, reconciler, query };
}

describe('ReconcilerService.reconcile', () => {
  it('starts the desired instances and records them STARTING', async () => {
    const h = harness();
    const result = await h.reconciler.reconcile(h.query.id);
    expect(h.runtime.calls).toEqual(['start orders-0', 'start orders-1']);
    expect((await h.instances.listForQuery(h.query.id)).map((r) => [r.name, r.status])).toEqual([
      ['orders-0', 'STARTING'],
      ['orders-1', 'STARTING'],
    ]);
    expect(result).toMatchObject({ target: 2 });
    expect(h.queries.statusWrites).toHaveLength(1);
  });

  it('shows an instance RUNNING once it stayed up for the settle time, then a settled pass writes nothing', async () => {
    const h = harness();
    await h.reconciler.reconcile(h.query.id);
    h.clock.advance(1000);
    await h.reconciler.reconcile(h.query.id);
    expect((await h.instances.listForQuery(h.query.id)).map((r) => r.status)).toEqual([
      'STARTING',
      'STARTING',
    ]);

    h.clock.advance(5000);
    await h.reconciler.reconcile(h.query.id);
    expect((await h.instances.listForQuery(h.query.id)).map((r) => r.status)).toEqual(['RUNNING', 'RUNNING']);
    expect((await h.queries.find(h.query.id))?.phase).toBe('RUNNING');

    // Nothing changed and lastSeenAt is fresh: the pass only reads.
    const instanceWrites = h.instances.writes.length;
    const statusWrites = h.queries.statusWrites.length;
    h.clock.advance(5000);
    await h.reconciler.reconcile(h.query.id);
    expect(h.instances.writes).toHaveLength(instanceWrites);
    expect(h.queries.statusWrites).toHaveLength(statusWrites);

    // A minute on, lastSeenAt is refreshed (the API shows it), still without a status write.
    h.clock.advance(60_000);
    await h.reconciler.reconcile(h.query.id);
    expect(h.instances.writes.slice(instanceWrites)).toHaveLength(2);
    expect(h.queries.statusWrites).toHaveLength(statusWrites);
  });

  it('adopts a running instance that has no row (its start was not recorded), which then settles', async () => {
    const h = harness();
    await h.reconciler.reconcile(h.query.id);
    h.clock.advance(5000);
    await h.reconciler.reconcile(h.query.id);
    // As if a control plane had died between runtime.start and recordStarting.
    await h.instances.forget(h.query.id, 'orders-1');
    const before = h.runtime.calls.length;

    await h.reconciler.reconcile(h.query.id);
    const row = async () => (await h.instances.listForQuery(h.query.id)).find((r) => r.name === 'orders-1');
    expect(await row()).toMatchObject({ status: 'STARTING' });
    expect(h.runtime.calls.slice(before)).toEqual([]); // adopted, not started again

    h.clock.advance(5000);
    const settled = await h.reconciler.reconcile(h.query.id);
    expect(await row()).toMatchObject({ status: 'RUNNING' });
    expect(settled).toMatchObject({ phase: 'RUNNING', running: 2, target: 2 });
  });

  it('restarts a crashed instance and counts the restart and the crash time', async () => {
    const h = harness();
    await h.reconciler.reconcile(h.query.id);
    h.clock.advance(5000);
    await h.reconciler.reconcile(h.query.id);
    h.clock.advance(1000);
    const crashedAt = h.clock.now();
    h.runtime.exit('orders-1', 1, crashedAt, 'boom');
    const row = async () => (await h.instances.listForQuery(h.query.id)).find((r) => r.name === 'orders-1');
    // A first crash restarts at once (reconcile-decision.backoffMs), in the pass that sees it.
    await h.reconciler.reconcile(h.query.id);
    expect(await row()).toMatchObject({ status: 'STARTING', restarts: 1 });
    const stored = await h.queries.find(h.query.id);
    expect(stored?.crashTimes).toEqual([crashedAt.toISOString()]);
    expect(h.runtime.calls.filter((c) => c === 'start orders-1')).toHaveLength(2);

    // A second crash is recorded and its restart waits out the backoff (1 s after the first restart).
    h.clock.advance(5000);
    await h.reconciler.reconcile(h.query.id);
    const secondAt = h.clock.now();
    h.runtime.exit('orders-1', 1, secondAt, 'boom again');
    const seen = await h.reconciler.reconcile(h.query.id);
    expect(await row()).toMatchObject({ status: 'CRASHED', exitCode: 1, restarts: 1 });
    expect(seen?.requeueAfterMs).toBe(1000);
    const after = await h.queries.find(h.query.id);
    expect(after?.crashTimes).toEqual([crashedAt.toISOString(), secondAt.toISOString()]);
    expect(JSON.stringify(after?.conditions)).toContain('orders-1 crashed: boom again');

    h.clock.advance(1000);
    await h.reconciler.reconcile(h.query.id);
    h.reconciler.onModuleDestroy();
    expect(await row()).toMatchObject({ status: 'STARTING', restarts: 2 });
    expect(h.runtime.calls.filter((c) => c === 'start orders-1')).toHaveLength(3);
  });

  it('does not write a status computed from a desired state a mutation has since changed', async () => {
    const h = harness();
    // A mutation bumps the generation between the pass's read and its write.
    const original = h.queries.findWithInstances.bind(h.queries);
    h.queries.findWithInstances = async (id: string) => {
      const q = await original(id);
      const stored = h.queries.queries.get(id);
      if (stored) h.queries.queries.set(id, { ...stored, generation: stored.generation + 1 });
      return q;
    };
    await h.reconciler.reconcile(h.query.id);
    expect(h.queries.statusWrites).toEqual([]);
  });

  it('a follower does not act: the pass refuses and nothing starts', async () => {
    const h = harness();
    h.leadership.isLeader = false;
    await expect(h.reconciler.reconcile(h.query.id)).rejects.toThrow(/leader/i);
    expect(h.runtime.calls).toEqual([]);
  });

  it('names a missing source topic in SourceReady=False while the query should run, and drops it once it exists', async () => {
    const h = harness();
    h.lag.missing.set(h.query.id, ['orders-in']);
    await h.reconciler.reconcile(h.query.id);
    const shown = JSON.stringify((await h.queries.find(h.query.id))?.conditions);
    expect(shown).toContain('"type":"SourceReady","status":"False","reason":"SourceTopicMissing"');
    expect(shown).toContain('source topic \\"orders-in\\" does not exist');

    h.lag.missing.set(h.query.id, []);
    h.clock.advance(1000);
    await h.reconciler.reconcile(h.query.id);
    expect(JSON.stringify((await h.queries.find(h.query.id))?.conditions)).not.toContain('SourceReady');
  });

  it("shows SinkReady=False/SinkRefused with the engine's error while an instance's newest progress has one, and clears it once batches commit", async () => {
    const h = harness();
    const event = (sinkError?: string) => ({
      timestamp: h.clock.now(),
      instance: 'orders-0',
      runId: 'run-1',
      numInputRows: 0,
      batchDurationMs: null,
      payload: { sluice: sinkError === undefined ? {} : { sinkError } },
    });
    h.progress.batches.set(h.query.id, [event('sink database: password authentication failed for user "x"')]);
    await h.reconciler.reconcile(h.query.id);
    const conditions = (await h.queries.find(h.query.id))?.conditions as Array<Record<string, string>>;
    const sink = conditions.find((c) => c.type === 'SinkReady');
    expect(sink).toMatchObject({ status: 'False', reason: 'SinkRefused' });
    expect(sink?.message).toContain('password authentication failed for user "x"');
    expect(sink?.message).toContain('instance orders-0');

    h.clock.advance(1000);
    h.progress.batches.get(h.query.id)!.push(event());
    await h.reconciler.reconcile(h.query.id);
    expect(JSON.stringify((await h.queries.find(h.query.id))?.conditions)).not.toContain('SinkReady');
  });

  it('bounds the quoted engine error', async () => {
    const h = harness();
    h.progress.batches.set(h.query.id, [
      {
        timestamp: h.clock.now(),
        instance: 'orders-0',
        runId: 'run-1',
        numInputRows: 0,
        batchDurationMs: null,
        payload: { sluice: { sinkError: 'x'.repeat(5000) } },
      },
    ]);
    await h.reconciler.reconcile(h.query.id);
    const conditions = (await h.queries.find(h.query.id))?.conditions as Array<Record<string, string>>;
    const message = conditions.find((c) => c.type === 'SinkReady')?.message ?? '';
    expect(message).toContain('x'.repeat(500));
    expect(message).not.toContain('x'.repeat(501));
  });
});

describe('ReconcilerService and cluster ownership', () => {
  it("leaves another cluster's query alone, on a pass and on a resync", async () => {
    const h = harness();
    const other = h.queries.add(queryRow({ name: 'theirs', cluster: 'other-cluster' }), SPEC);
    expect(await h.reconciler.reconcile(other.id)).toBeNull();
    await h.reconciler.resync();
    expect(h.runtime.calls).toEqual(['start orders-0', 'start orders-1']);
    expect(await h.instances.listForQuery(other.id)).toEqual([]);
    expect(h.queries.statusWrites.map((w) => w.id)).not.toContain(other.id);
  });

  it('adopts a query from before ownership on a resync, unless its instances ran on another runtime', async () => {
    const h = harness();
    const legacy = h.queries.add(queryRow({ name: 'legacy', cluster: null }), SPEC);
    const kube = h.queries.add(queryRow({ name: 'kube', cluster: null }), SPEC);
    await h.instances.recordStarting(kube.id, 'kube-0', {
      runtime: 'kubernetes',
      at: h.clock.now(),
      restarts: 0,
    });
    await h.reconciler.resync();
    expect((await h.queries.find(legacy.id))?.cluster).toBe(FAKE_CLUSTER);
    expect((await h.queries.find(kube.id))?.cluster).toBeNull();
    expect(h.runtime.calls).toContain('start legacy-0');
    expect(h.runtime.calls.some((c) => c.startsWith('start kube'))).toBe(false);
  });
});
