// The file source end to end on the real broker, into a file sink: files renamed into a directory
// are read once each (hidden and `_` files never), files dropped later are picked up by later
// triggers, a bad line becomes a dead letter naming its file and line, and after a SIGKILL in the
// middle of a run and a restart every line is in the sink exactly once.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dlqTopic } from '@sluice/contracts';
import { FileBlobStore } from '../src/checkpoint/file-blob-store';
import { FileSinkLog } from '../src/sinks/file-sink-log';
import { EngineSuite, eventually, readAll, tempDir, writeSpec } from './support/engine-harness';

const root = tempDir('file-source-root');
const suite = new EngineSuite('file-source-int', { SLUICE_FILE_SINK_ROOT: root });
const pool = new Pool({ connectionString: process.env.DATABASE_URL });
const tables: string[] = [];
afterAll(async () => {
  fs.rmSync(root, { recursive: true, force: true });
  for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
  await pool.end();
});

async function sinkRows(relative: string): Promise<Array<{ id: number; file: string }>> {
  const dir = path.join(root, relative);
  if (!fs.existsSync(dir)) return [];
  const files = await new FileSinkLog(new FileBlobStore(dir)).committedFiles();
  return files.flatMap((f) =>
    fs
      .readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { id: number; file: string }),
  );
}

/** Writes a file as a well-behaved writer does: under a hidden name, then renamed into place. */
function drop(dir: string, name: string, lines: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.tmp`);
  fs.writeFileSync(tmp, lines.join('\n') + '\n');
  fs.renameSync(tmp, path.join(dir, name));
}

const rowsOf = (file: string, from: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i, file }));

describe('file source', () => {
  it('reads each file once, picks up new ones, and survives a SIGKILL without loss or duplicates', async () => {
    const queryId = `it-filesrc-${randomUUID()}`;
    const input = `in/${randomUUID()}`;
    const out = `out/${randomUUID()}`;
    const inDir = path.join(root, input);
    // Present before the start: two files, one of them with a bad line; never read: a hidden file
    // and an `_` file (a writer's unfinished output).
    drop(inDir, 'a.jsonl', rowsOf('a', 0, 50));
    drop(inDir, 'b.jsonl', [
      ...rowsOf('b', 50, 20),
      '{"id": "not a number", "file": "b"}',
      ...rowsOf('b', 70, 30),
    ]);
    fs.writeFileSync(path.join(inDir, '.partial.jsonl'), rowsOf('hidden', 10_000, 5).join('\n'));
    fs.writeFileSync(path.join(inDir, '_temporary'), rowsOf('underscore', 20_000, 5).join('\n'));
    const dir = tempDir('file-source');
    const spec = writeSpec(
      dir,
      `name: it-file-source
sources:
  events:
    file: { path: ${input}, format: jsonl, maxFilesPerTrigger: 1 }
    schema: { id: long, file: string }
sql: SELECT id, file FROM events
sink:
  file: { path: ${out}, format: jsonl }
outputMode: append
trigger: { processingTime: 500 milliseconds }
`,
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const first = suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(async () => (await sinkRows(out)).length === 100, 120_000, 'files a and b in the sink');

    // Dropped while it runs: picked up by later triggers, one file a batch.
    for (let f = 0; f < 30; f++)
      drop(inDir, `c${String(f).padStart(2, '0')}.jsonl`, rowsOf(`c${f}`, 1000 + f * 20, 20));
    await eventually(async () => (await sinkRows(out)).length > 100 + 60, 120_000, 'some of the new files');
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await sinkRows(out)).length).toBeLessThan(100 + 600);

    suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    drop(inDir, 'd.jsonl', rowsOf('d', 5000, 10));
    const total = 100 + 600 + 10;
    await eventually(async () => (await sinkRows(out)).length >= total, 180_000, 'every line in the sink');
    // A duplicate would show up by now: the engine keeps listing an unchanged directory.
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await sinkRows(out);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.id)).size).toBe(total);
    expect(rows.some((r) => r.file === 'hidden' || r.file === 'underscore')).toBe(false);

    const dead = (await readAll(suite.kafka, dlqTopic(queryId), 1)).map(
      (r) => JSON.parse(r.value) as { key: string; reason: string; value: string },
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]).toEqual(
      expect.objectContaining({ key: 'b.jsonl:21', value: '{"id": "not a number", "file": "b"}' }),
    );
  }, 400_000);

  it('aggregates CSV files into PostgreSQL exactly once across a SIGKILL (stateful plan)', async () => {
    const queryId = `it-filesrc-agg-${randomUUID()}`;
    const input = `in/${randomUUID()}`;
    const table = `it_filesrc_${randomUUID().slice(0, 8)}`;
    tables.push(table);
    const inDir = path.join(root, input);
    const FILES = 20;
    const LINES = 30;
    const csv = (f: number) => Array.from({ length: LINES }, (_, i) => `u${i % 5},${f * LINES + i}`);
    for (let f = 0; f < 4; f++) drop(inDir, `p${String(f).padStart(2, '0')}.csv`, csv(f));
    const dir = tempDir('file-source-agg');
    const spec = writeSpec(
      dir,
      `name: it-file-source-agg
sources:
  events:
    file: { path: ${input}, format: csv, maxFilesPerTrigger: 2 }
    schema: { user_id: string, v: long }
sql: SELECT user_id, count(*) AS n, sum(v) AS total FROM events GROUP BY user_id
sink:
  postgres: { table: ${table}, key: [user_id] }
outputMode: update
trigger: { processingTime: 500 milliseconds }
options: { numShufflePartitions: 2 }
`,
    );
    const counts = async (): Promise<Map<string, { n: number; total: number }>> => {
      const exists = await pool.query(`SELECT to_regclass($1) AS t`, [table]);
      if (!exists.rows[0]?.t) return new Map();
      const rows = await pool.query<{ user_id: string; n: string; total: string }>(
        `SELECT user_id, n, total FROM ${table}`,
      );
      return new Map(rows.rows.map((r) => [r.user_id, { n: Number(r.n), total: Number(r.total) }]));
    };
    const counted = async () => [...(await counts()).values()].reduce((a, c) => a + c.n, 0);
    const checkpoint = path.join(dir, 'checkpoint');
    const first = suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(async () => (await counted()) === 4 * LINES, 120_000, 'the first four files counted');
    for (let f = 4; f < FILES; f++) drop(inDir, `p${String(f).padStart(2, '0')}.csv`, csv(f));
    await eventually(async () => (await counted()) > 4 * LINES, 120_000, 'some of the later files counted');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await counted()).toBeLessThan(FILES * LINES);

    suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(async () => (await counted()) >= FILES * LINES, 180_000, 'every file counted');
    await new Promise((r) => setTimeout(r, 1500));
    const all = Array.from({ length: FILES * LINES }, (_, k) => k);
    const expected = new Map(
      ['u0', 'u1', 'u2', 'u3', 'u4'].map((u, i) => {
        const vs = all.filter((k) => (k % LINES) % 5 === i);
        return [u, { n: vs.length, total: vs.reduce((a, b) => a + b, 0) }];
      }),
    );
    expect(await counts()).toEqual(expected);
  }, 400_000);
});
