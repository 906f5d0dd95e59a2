import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileChangedError, listFiles, MAX_LINE_BYTES, readFileRecords } from './file-reader';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-file-reader-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string | Buffer) => {
  fs.writeFileSync(path.join(dir, name), text);
  const st = fs.statSync(path.join(dir, name));
  return { name, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
};

describe('file reader', () => {
  it('lists regular files only (no links, no directories)', async () => {
    write('a.jsonl', 'x\n');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync(path.join(dir, 'a.jsonl'), path.join(dir, 'link.jsonl'));
    expect((await listFiles(dir)).map((f) => f.name)).toEqual(['a.jsonl']);
  });

  it('reads one record per non-empty line, CRLF as LF, the last line without a newline too', async () => {
    const file = write('a.jsonl', '{"a":1}\r\n\n{"a":2}\n{"a":3}');
    const records = await readFileRecords(dir, file, 'topic', 7);
    expect(records.map((r) => r.value?.toString())).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(records.map((r) => r.key?.toString())).toEqual(['a.jsonl:1', 'a.jsonl:3', 'a.jsonl:4']);
    expect(records.every((r) => r.offset === 7 && r.partition === 0 && r.topic === 'topic')).toBe(true);
  });

  it('reads only the bytes its batch planned (an append after planning is not part of it)', async () => {
    const file = write('a.jsonl', '1\n2\n');
    fs.appendFileSync(path.join(dir, 'a.jsonl'), '3\n');
    expect((await readFileRecords(dir, file, 't', 0)).map((r) => r.value?.toString())).toEqual(['1', '2']);
  });

  it('refuses an over-long line as a record of its own, and reads the rest', async () => {
    const file = write(
      'a.jsonl',
      Buffer.concat([Buffer.from('ok\n'), Buffer.alloc(MAX_LINE_BYTES + 1, 0x61), Buffer.from('\nok2\n')]),
    );
    const records = await readFileRecords(dir, file, 't', 0);
    expect(records.map((r) => r.refused === undefined)).toEqual([true, false, true]);
    expect(records[1]!.refused).toMatch(/line 2 of a.jsonl is \d+ bytes, over the bound/);
  });

  it('says which file vanished or shrank since its batch was planned', async () => {
    const file = write('a.jsonl', '1\n2\n');
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '1');
    await expect(readFileRecords(dir, file, 't', 0)).rejects.toThrow(FileChangedError);
    fs.rmSync(path.join(dir, 'a.jsonl'));
    await expect(readFileRecords(dir, file, 't', 0)).rejects.toThrow(/a.jsonl vanished/);
  });
});
