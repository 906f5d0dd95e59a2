// One task's batch on the in-memory broker (the OutputLog and Source of `engine test`): a new plan
// of a source task whose marker is a Kafka transaction writes its offset-log entry beside the
// batch, and its output commits only with that entry durable and its own; a plan another owner
// wrote first voids this attempt (PlanTakenError), and nothing of it lands. In a trigger's shared
// transaction a new plan names its writer and commits there; a replay stays on the task's producer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSpec, instantiate } from '@sluice/query-plan';
import { CheckpointStore, type OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { MemoryBroker, MemorySource } from '../query-test/memory-broker';
import { KafkaSink } from '../sinks/kafka-sink';
import { openStateStoreProvider } from '../state/state-store-provider';
import { markerBatch, type OutputBatches } from './output-log';
import { NEW_CHECKPOINT_REPARTITION_FORMAT } from './shuffle-codec';
import { emptyTriggerStats, PlanTakenError, runTaskBatch, type BatchContext } from './task-batch';
import { TaskCommitter } from './task-committer';
import { recoverTask } from './task-runtime';
import { TriggerRendezvous } from './trigger-rendezvous';

const SPEC = `name: t
sources:
  clicks:
    kafka: { topic: in }
    format: json
    schema: { user_id: string, bytes: long }
sql: SELECT user_id, bytes FROM clicks WHERE bytes > 1
sink:
  kafka: { topic: out }
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const compiled = compileSpec(SPEC, 't.yaml');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const executor = instantiate(compiled.plan);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-task-batch-'));
  dirs.push(dir);
  const checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
  const broker = new MemoryBroker();
  for (const t of ['in', 'out', 'dlq']) broker.createTopic(t, 1);
  for (const bytes of [1, 5, 9])
    broker.append('in', 0, Buffer.from(JSON.stringify({ user_id: 'u', bytes })), null);
  const sink = new KafkaSink('out', undefined, executor.output);
  const ctx: BatchContext = {
    queryId: 'q',
    checkpoint,
    source: new MemorySource(broker, ['in'], undefined),
    sink,
    executor,
    outputMode: 'append',
    numShufflePartitions: 1,
    sourceByTopic: new Map([['in', compiled.spec.sources.clicks!]]),
    columns: executor.output,
    guard: sink.guard,
    dlqTopic: 'dlq',
    repartitionTopic: undefined,
    repartitionFormat: NEW_CHECKPOINT_REPARTITION_FORMAT,
    topicLimit: () => 1_000_000,
    log: () => undefined,
  };
  const committer = new TaskCommitter(broker, 'src.in.0', sink, 'g', checkpoint);
  /** Recovers the one task afresh (a new process's view of the checkpoint and the broker). */
  const recover = async (work: string) =>
    await recoverTask({
      checkpoint,
      committer,
      stage: 'source',
      topic: 'in',
      partition: 0,
      stateOperator: undefined,
      stateStores: await openStateStoreProvider('memory', checkpoint, path.join(dir, work)),
      watermarkDelayMs: undefined,
    });
  const rt = await recover('work');
  const plan = (end: number): OffsetLogEntry => ({
    batchId: 0,
    range: { topic: 'in', partition: 0, start: 0, end },
    watermarkMs: 0,
    batchTimestampMs: 0,
    planVersion: 1,
  });
  return { ctx, rt, broker, checkpoint, plan, recover };
}

/**
 * A trigger's shared transaction on the in-memory broker for `tasks`, recording which tasks took
 * part (each part commits on the instance writer `w-1`, in the order they came).
 */
async function sharedOn(broker: MemoryBroker, tasks: string[]) {
  const writer = await broker.open('w-1');
  const joined: string[] = [];
  type Part = {
    task: string;
    batches: OutputBatches;
    marker: { groupId: string; entry: OffsetLogEntry };
    beforeCommit?: () => Promise<void>;
  };
  const rendezvous = new TriggerRendezvous<Part>(tasks, async (parts) => {
    for (const p of parts) {
      joined.push(p.task);
      await writer.transaction(p.batches, p.marker, p.beforeCommit);
    }
  });
  return {
    joined,
    shared: {
      writer: 'w-1',
      txn: {
        transaction: (
          task: string,
          batches: OutputBatches,
          marker: Part['marker'],
          beforeCommit?: () => Promise<void>,
        ) =>
          rendezvous.contribute(task, { task, batches, marker, ...(beforeCommit ? { beforeCommit } : {}) }),
        withdraw: (task: string) => rendezvous.withdraw(task),
      },
    },
  };
}

describe('runTaskBatch, a source task with a kafka-group marker', () => {
  it('commits the output and the marker with the plan in the offset log', async () => {
    const { ctx, rt, broker, checkpoint, plan } = await setup();
    const durations: Record<string, number> = {};
    await runTaskBatch(ctx, rt, plan(3), emptyTriggerStats(), durations);
    expect(broker.records('out').map((r) => JSON.parse(r.value!.toString()))).toEqual([
      { user_id: 'u', bytes: 5 },
      { user_id: 'u', bytes: 9 },
    ]);
    expect(markerBatch(await broker.groupMarker('g', 'in', 0))).toBe(0);
    expect(await checkpoint.readOffsets('src.in.0', 0)).toEqual(plan(3));
    expect(durations.walCommit).toBeGreaterThanOrEqual(0);
    expect(rt.nextBatchId).toBe(1);
  });

  it('voids the attempt when another owner wrote a different plan for the batch first', async () => {
    const { ctx, rt, broker, checkpoint, plan } = await setup();
    await checkpoint.writeOffsets('src.in.0', plan(2));
    await expect(runTaskBatch(ctx, rt, plan(3), emptyTriggerStats(), {})).rejects.toBeInstanceOf(
      PlanTakenError,
    );
    expect(broker.records('out')).toEqual([]);
    expect(await broker.groupMarker('g', 'in', 0)).toBeUndefined();
    // The stored plan stands: recovery replays it.
    expect(await checkpoint.readOffsets('src.in.0', 0)).toEqual(plan(2));
    expect(rt.nextBatchId).toBe(0);
  });
});

describe("runTaskBatch in a trigger's shared transaction", () => {
  it('a new plan names the instance writer in the offset log and commits in the shared transaction', async () => {
    const { ctx, rt, broker, checkpoint, plan } = await setup();
    const { joined, shared } = await sharedOn(broker, ['src.in.0']);
    await runTaskBatch(ctx, rt, plan(3), emptyTriggerStats(), {}, shared);
    expect(joined).toEqual(['src.in.0']);
    expect(await checkpoint.readOffsets('src.in.0', 0)).toEqual({ ...plan(3), writer: 'w-1' });
    expect(broker.records('out')).toHaveLength(2);
    expect(markerBatch(await broker.groupMarker('g', 'in', 0))).toBe(0);
  });

  it('a batch another owner planned first is never committed in the shared transaction (what lets a recovery leave a committed writer alone)', async () => {
    const { ctx, rt, broker, checkpoint, plan } = await setup();
    // The next owner recovered the task and planned batch 0 before this (old) owner did.
    await checkpoint.writeOffsets('src.in.0', { ...plan(2), writer: 'w-next' });
    const { shared } = await sharedOn(broker, ['src.in.0']);
    await expect(runTaskBatch(ctx, rt, plan(3), emptyTriggerStats(), {}, shared)).rejects.toBeInstanceOf(
      PlanTakenError,
    );
    expect(broker.records('out')).toEqual([]);
    expect(await broker.groupMarker('g', 'in', 0)).toBeUndefined();
    expect(await checkpoint.readOffsets('src.in.0', 0)).toEqual({ ...plan(2), writer: 'w-next' });
  });

  it("a replay (someone else's plan) commits on the task's own producer and names no writer", async () => {
    const { ctx, broker, checkpoint, plan, recover } = await setup();
    await checkpoint.writeOffsets('src.in.0', plan(3));
    const rt = await recover('work2');
    expect(rt.replay).toEqual(plan(3));
    const { joined, shared } = await sharedOn(broker, []);
    await runTaskBatch(ctx, rt, rt.replay!, emptyTriggerStats(), {}, shared);
    expect(joined).toEqual([]);
    expect(await checkpoint.readOffsets('src.in.0', 0)).toEqual(plan(3));
    expect(broker.records('out')).toHaveLength(2);
    expect(markerBatch(await broker.groupMarker('g', 'in', 0))).toBe(0);
  });

  it("recovery fences the writer the newest offset-log entry names: that writer's open transaction cannot commit, and the batch is replayed", async () => {
    const { broker, checkpoint, plan, recover } = await setup();
    // Another instance's trigger transaction holds batch 0 open (sent, not yet committed).
    await checkpoint.writeOffsets('src.in.0', { ...plan(3), writer: 'w-other' });
    const other = await broker.open('w-other');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const zombie = other.transaction(
      [{ topic: 'out', messages: [{ value: 'zombie' }] }],
      { groupId: 'g', entry: { ...plan(3), writer: 'w-other' } },
      () => held,
    );
    const rt = await recover('work3');
    expect(rt.replay?.batchId).toBe(0);
    release();
    await expect(zombie).rejects.toThrow('fenced');
    expect(broker.records('out')).toEqual([]);
    expect(await broker.groupMarker('g', 'in', 0)).toBeUndefined();
  });

  it("recovery leaves alone the writer of a newest batch already committed: that writer's next transaction (other partitions' batches) still commits", async () => {
    const { broker, checkpoint, plan, recover } = await setup();
    // The old owner committed batch 0 in its trigger transaction, then lost the partition in a
    // rebalance; its next trigger (the partitions it kept) is still open.
    const entry = { ...plan(3), writer: 'w-old' };
    await checkpoint.writeOffsets('src.in.0', entry);
    const old = await broker.open('w-old');
    await old.transaction([{ topic: 'out', messages: [{ value: 'batch 0' }] }], { groupId: 'g', entry });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const next = old.transaction(
      [{ topic: 'out', messages: [{ value: 'kept partition' }] }],
      undefined,
      () => held,
    );
    const rt = await recover('work4');
    expect(rt.replay).toBeUndefined();
    expect(rt.nextBatchId).toBe(1);
    release();
    await next;
    expect(broker.records('out').map((r) => r.value?.toString())).toEqual(['batch 0', 'kept partition']);
  });
});
