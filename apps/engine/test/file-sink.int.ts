// The file sink end to end on the real broker: what a reader of the sink's metadata log sees is
// every input row exactly once across a SIGKILL and restart (stateless, JSON lines), and a windowed
// append-mode aggregation's closed windows once each in Parquet across a restart.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@sluice/kafka';
import { FileBlobStore } from '../src/checkpoint/file-blob-store';
import { FileSinkLog } from '../src/sinks/file-sink-log';
import { EngineSuite, eventually, tempDir, writeSpec } from './support/engine-harness';

const root = tempDir('file-sink-root');
const suite = new EngineSuite('file-sink-int', { SLUICE_FILE_SINK_ROOT: root });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every committed file of a sink directory, as the metadata log lists them. */
async function committedFiles(relative: string): Promise<string[]> {
  const dir = path.join(root, relative);
  if (!fs.existsSync(dir)) return [];
  return new FileSinkLog(new FileBlobStore(dir)).committedFiles();
}

async function committedJsonRows(relative: string): Promise<Array<Record<string, unknown>>> {
  const files = await committedFiles(relative);
  return files.flatMap((f) =>
    fs
      .readFileSync(path.join(root, relative, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

describe('file sink', () => {
  it('gives a reader of the metadata log every row exactly once across a SIGKILL', async () => {
    const input = `it-file-in-${randomUUID()}`;
    const queryId = `it-file-${randomUUID()}`;
    const out = `it/${randomUUID()}`;
    const N = 3000;
    await ensureTopics(suite.admin, [{ topic: input, numPartitions: 4 }]);
    const messages = Array.from({ length: N }, (_, id) => ({
      key: String(id),
      value: JSON.stringify({
        id,
        user_id: `u${id % 7}`,
        ts: new Date(Date.UTC(2026, 0, 1) + id).toISOString(),
      }),
    }));
    for (let i = 0; i < N; i += 500)
      await suite.producer.send({ topic: input, messages: messages.slice(i, i + 500) });
    const dir = tempDir('file-sink');
    const spec = writeSpec(
      dir,
      `name: it-file-sink
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long, user_id: string, ts: timestamp }
sql: SELECT id, user_id, ts FROM clicks
sink:
  file: { path: ${out}, format: jsonl }
outputMode: append
trigger: { processingTime: 100 milliseconds }
options: { maxOffsetsPerTrigger: 200 }
`,
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const first = suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(async () => (await committedFiles(out)).length >= 4, 120_000, 'a few committed files');
    first.child.kill('SIGKILL');
    await first.exited;
    const before = (await committedJsonRows(out)).length;
    expect(before).toBeLessThan(N);

    suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(async () => (await committedJsonRows(out)).length >= N, 180_000, 'every row committed');
    // Give a duplicate a chance to show up: the engine keeps running over an idle topic.
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await committedJsonRows(out);
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.id)).size).toBe(N);
    expect(rows.find((r) => r.id === 5)).toEqual({ id: 5, user_id: 'u5', ts: '2026-01-01T00:00:00.005Z' });
  }, 330_000);

  it('writes each closed window once to Parquet across a restart (append mode)', async () => {
    const input = `it-file-in-${randomUUID()}`;
    const queryId = `it-file-${randomUUID()}`;
    const out = `it/${randomUUID()}`;
    await ensureTopics(suite.admin, [{ topic: input, numPartitions: 1 }]);
    const at = (s: number) => ({
      value: JSON.stringify({ user_id: 'u', ts: new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString() }),
    });
    const dir = tempDir('file-sink-window');
    const spec = writeSpec(
      dir,
      `name: it-file-window
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { user_id: string, ts: timestamp }
    watermark: { column: ts, delay: 5 seconds }
sql: |
  SELECT window.start AS window_start, user_id, count(*) AS clicks
  FROM clicks GROUP BY window(ts, '10 seconds'), user_id
sink:
  file: { path: ${out}, format: parquet }
outputMode: append
trigger: { processingTime: 100 milliseconds }
options: { numShufflePartitions: 1 }
`,
    );
    const { parquetReadObjects } = await import('hyparquet');
    const windows = async (): Promise<Array<[string, bigint]>> => {
      const rows = [];
      for (const f of await committedFiles(out)) {
        const b = fs.readFileSync(path.join(root, out, f));
        rows.push(
          ...((await parquetReadObjects({
            file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
          })) as Array<{
            window_start: Date;
            clicks: bigint;
          }>),
        );
      }
      return rows.map((r): [string, bigint] => [r.window_start.toISOString().slice(11, 19), r.clicks]).sort();
    };
    const checkpoint = path.join(dir, 'checkpoint');
    const first = suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await suite.producer.send({ topic: input, messages: Array.from({ length: 10 }, (_, i) => at(i)) });
    await suite.producer.send({ topic: input, messages: [at(20)] }); // watermark 15 s: [0,10) closes
    await eventually(async () => (await windows()).length >= 1, 120_000, 'the first window in a file');
    first.child.kill('SIGKILL');
    await first.exited;

    suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await suite.producer.send({ topic: input, messages: [at(40)] }); // watermark 35 s: [20,30) closes
    await eventually(async () => (await windows()).length >= 2, 120_000, 'the second window in a file');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await windows()).toEqual([
      ['00:00:00', 10n],
      ['00:00:20', 1n],
    ]);
  }, 330_000);
});
