import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EMPTY_CURSOR, advanceCursor } from './file-selection';
import { FileChangedError } from './file-reader';
import { FileSources, fileSourceTopic } from './file-source';
import type { Source } from './source';

let root: string;
const warnings: string[] = [];
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-file-source-'));
  warnings.length = 0;
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Only file topics are asked of here: the Kafka side must never be reached. */
const noKafka: Source = {
  assignment: () => [],
  bounds: () => Promise.reject(new Error('Kafka asked')),
  read: () => Promise.reject(new Error('Kafka asked')),
  commitPosition: () => Promise.reject(new Error('Kafka asked')),
};
const TOPIC = fileSourceTopic('q', 'in');
const sources = (failOnDataLoss: boolean, maxFilesPerTrigger?: number) =>
  new FileSources(
    noKafka,
    new Map([
      [TOPIC, { path: 'in', format: 'jsonl', ...(maxFilesPerTrigger ? { maxFilesPerTrigger } : {}) }],
    ]),
    root,
    failOnDataLoss,
    (m) => warnings.push(m),
  );
const drop = (name: string, text: string, mtimeS: number) => {
  fs.mkdirSync(path.join(root, 'in'), { recursive: true });
  fs.writeFileSync(path.join(root, 'in', name), text);
  fs.utimesSync(path.join(root, 'in', name), mtimeS, mtimeS);
};

describe('file sources', () => {
  it('names the ownership topic after the lineage and the path, within Kafka topic characters', () => {
    expect(fileSourceTopic('q1', 'in/a')).toMatch(/^sluice\.q1\.files\.[0-9a-f]{16}$/);
    expect(fileSourceTopic('q1', 'in/a')).not.toBe(fileSourceTopic('q1', 'in/b'));
    expect(fileSourceTopic('q1', 'in/a')).not.toBe(fileSourceTopic('q1.c1', 'in/a'));
  });

  it('waits for a missing directory (one warning), then offers its files oldest first, capped', async () => {
    const s = sources(true, 2);
    expect(await s.nextFiles(TOPIC, EMPTY_CURSOR)).toEqual([]);
    expect(await s.nextFiles(TOPIC, EMPTY_CURSOR)).toEqual([]);
    expect(warnings).toHaveLength(1);
    drop('b.jsonl', '{}\n', 300);
    drop('a.jsonl', '{}\n', 200);
    drop('c.jsonl', '{}\n', 100);
    drop('.d.jsonl.tmp', '{}\n', 50);
    const next = await s.nextFiles(TOPIC, EMPTY_CURSOR);
    expect(next.map((f) => f.name)).toEqual(['c.jsonl', 'a.jsonl']);
    const after = await s.nextFiles(TOPIC, advanceCursor(EMPTY_CURSOR, next));
    expect(after.map((f) => f.name)).toEqual(['b.jsonl']);
  });

  it('refuses a source directory that is a link out of the root', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-outside-'));
    try {
      fs.symlinkSync(outside, path.join(root, 'in'));
      await expect(sources(true).nextFiles(TOPIC, EMPTY_CURSOR)).rejects.toThrow(/outside/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('reads a batch by the files its entry names; a vanished file is fatal, or a dead letter', async () => {
    drop('a.jsonl', '{"x":1}\n{"x":2}\n', 100);
    const taken = await sources(true).nextFiles(TOPIC, EMPTY_CURSOR);
    const files = { taken, cursor: advanceCursor(EMPTY_CURSOR, taken) };
    const records = await sources(true).read('source', TOPIC, 0, 5, 6, files);
    expect(records.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [5, '{"x":1}'],
      [5, '{"x":2}'],
    ]);
    await expect(sources(true).read('source', TOPIC, 0, 5, 7, files)).rejects.toThrow(
      /does not name its files/,
    );
    fs.rmSync(path.join(root, 'in', 'a.jsonl'));
    await expect(sources(true).read('source', TOPIC, 0, 5, 6, files)).rejects.toThrow(FileChangedError);
    const skipped = await sources(false).read('source', TOPIC, 0, 5, 6, files);
    expect(skipped).toEqual([
      expect.objectContaining({ value: null, refused: expect.stringContaining('a.jsonl vanished') }),
    ]);
  });
});
