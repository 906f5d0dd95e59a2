// The committer and the sinks' markers on the in-memory broker (the OutputLog of `engine test`):
// the output and the marker land together, a replayed batch is recognised, and a newer owner
// of a task fences the older one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointStore, type OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { MemoryBroker } from '../query-test/memory-broker';
import { MemorySink } from '../query-test/memory-sink';
import { ConsoleSink } from '../sinks/console-sink';
import { KafkaSink } from '../sinks/kafka-sink';
import { emptyOutput, kafkaGroupTarget } from '../sinks/sink';
import { markerBatch } from './output-log';
import { TaskCommitter } from './task-committer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-committer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
const columns = [
  { name: 'user_id', type: 'string' as const },
  { name: 'ts', type: 'timestamp' as const },
];
const entry = (batchId: number, start: number, end: number): OffsetLogEntry => ({
  batchId,
  range: { topic: 'in', partition: 0, start, end },
  watermarkMs: 0,
  batchTimestampMs: 0,
  planVersion: 1,
});

function broker(): MemoryBroker {
  const b = new MemoryBroker();
  for (const t of ['in', 'out', 'dlq']) b.createTopic(t, 1);
  return b;
}

describe('TaskCommitter', () => {
  it('kafka-group: records and the group offset marker commit in one transaction', async () => {
    const b = broker();
    const sink = new KafkaSink('out', ['user_id'], columns);
    const c = new TaskCommitter(b, 'src.in.0', sink, 'g', checkpoint);
    await c.open();
    expect(await c.isCommitted(entry(0, 0, 2))).toBe(false);
    const output = emptyOutput();
    sink.stage([{ user_id: 'u1', ts: Date.UTC(2026, 0, 1) }], output);
    await c.commit(entry(0, 0, 2), output);
    expect(b.records('out').map((r) => [r.key?.toString(), r.value?.toString()])).toEqual([
      ['["u1"]', '{"user_id":"u1","ts":"2026-01-01T00:00:00.000Z"}'],
    ]);
    expect(markerBatch(await b.groupMarker('g', 'in', 0))).toBe(0);
    expect(await c.isCommitted(entry(0, 0, 2))).toBe(true);
    expect(await c.isCommitted(entry(1, 2, 4))).toBe(false);
  });

  it('a newer owner fences the older one: its commit fails and nothing lands', async () => {
    const b = broker();
    const old = new TaskCommitter(b, 'shuffle.0', kafkaGroupTarget, 'g', checkpoint);
    await old.open();
    const successor = new TaskCommitter(b, 'shuffle.0', kafkaGroupTarget, 'g', checkpoint);
    await successor.open();
    const output = emptyOutput();
    output.kafka.push({ topic: 'dlq', messages: [{ value: 'x' }] });
    await expect(old.commit(entry(0, 0, 1), output)).rejects.toThrow(/fenced/);
    expect(b.records('dlq')).toEqual([]);
    expect(await b.groupMarker('g', 'in', 0)).toBeUndefined();
    await successor.commit(entry(0, 0, 1), output);
    expect(b.records('dlq')).toHaveLength(1);
  });

  it('memory sink: rows and marker together; a batch already committed is refused', async () => {
    const b = broker();
    const sink = new MemorySink(columns);
    const c = new TaskCommitter(b, 'shuffle.1', sink, 'g', checkpoint);
    await c.open();
    const output = emptyOutput();
    sink.stage([{ user_id: 'u2', ts: 0 }], output);
    output.kafka.push({ topic: 'dlq', messages: [{ value: 'dead' }] });
    await c.commit(entry(3, 0, 1), output);
    expect(sink.take()).toEqual([{ user_id: 'u2', ts: '1970-01-01T00:00:00.000Z' }]);
    expect(b.records('dlq').map((r) => r.value?.toString())).toEqual(['dead']);
    expect(await c.isCommitted(entry(3, 0, 1))).toBe(true);
    await expect(c.commit(entry(3, 0, 1), output)).rejects.toThrow(/already committed/);
    expect(sink.take()).toEqual([]);
  });

  it('console sink: lines after the dead letters; the marker is the checkpoint commit log', async () => {
    const b = broker();
    const lines: string[] = [];
    const sink = new ConsoleSink(columns, (l) => lines.push(l));
    const c = new TaskCommitter(b, 'src.in.5', sink, 'g', checkpoint);
    await c.open();
    const output = emptyOutput();
    sink.stage([{ user_id: 'u3', ts: null }], output);
    await c.commit(entry(0, 0, 1), output);
    expect(lines).toEqual(['{"user_id":"u3","ts":null}\n']);
    expect(b.records('dlq')).toEqual([]);
    expect(await c.isCommitted(entry(0, 0, 1))).toBe(false);
    await checkpoint.writeCommit('src.in.5', { batchId: 0, maxEventTimeMs: null, committedAt: 'now' });
    expect(await c.isCommitted(entry(0, 0, 1))).toBe(true);
  });

  describe('with the offset-log write still under way (planWritten)', () => {
    /** A promise the test settles. */
    function pending() {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    }
    const settle = () => new Promise((r) => setTimeout(r, 5));

    it('kafka-group: the transaction waits for it before committing; records and marker then land', async () => {
      const b = broker();
      const sink = new KafkaSink('out', ['user_id'], columns);
      const c = new TaskCommitter(b, 'src.in.6', sink, 'g', checkpoint);
      await c.open();
      const output = emptyOutput();
      sink.stage([{ user_id: 'u4', ts: 0 }], output);
      const plan = pending();
      let done = false;
      const committing = c.commit(entry(0, 0, 1), output, plan.promise).then(() => (done = true));
      await settle();
      expect(done).toBe(false);
      expect(b.records('out')).toEqual([]);
      expect(await b.groupMarker('g', 'in', 0)).toBeUndefined();
      plan.resolve();
      await committing;
      expect(b.records('out')).toHaveLength(1);
      expect(markerBatch(await b.groupMarker('g', 'in', 0))).toBe(0);
    });

    it('kafka-group: a failed write (or a plan another owner wrote first) aborts; nothing lands', async () => {
      const b = broker();
      const c = new TaskCommitter(b, 'shuffle.2', kafkaGroupTarget, 'g', checkpoint);
      await c.open();
      const output = emptyOutput();
      output.kafka.push({ topic: 'dlq', messages: [{ value: 'x' }] });
      const plan = pending();
      const committing = c.commit(entry(0, 0, 1), output, plan.promise);
      plan.reject(new Error('plan taken'));
      await expect(committing).rejects.toThrow('plan taken');
      expect(b.records('dlq')).toEqual([]);
      expect(await b.groupMarker('g', 'in', 0)).toBeUndefined();
    });

    it('any other target: nothing is written before it resolves', async () => {
      const b = broker();
      const sink = new MemorySink(columns);
      const c = new TaskCommitter(b, 'shuffle.3', sink, 'g', checkpoint);
      await c.open();
      const output = emptyOutput();
      sink.stage([{ user_id: 'u5', ts: 0 }], output);
      output.kafka.push({ topic: 'dlq', messages: [{ value: 'dead' }] });
      const plan = pending();
      const committing = c.commit(entry(0, 0, 1), output, plan.promise);
      await settle();
      expect(sink.take()).toEqual([]);
      expect(b.records('dlq')).toEqual([]);
      plan.resolve();
      await committing;
      expect(sink.take()).toEqual([{ user_id: 'u5', ts: '1970-01-01T00:00:00.000Z' }]);
      expect(b.records('dlq')).toHaveLength(1);
    });
  });
});
