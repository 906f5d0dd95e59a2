// logTail quotes the end of a daemon's log in a start-up error: the only part of a failed start that
// reaches a CI log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logTail } from '../stack/proc';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-tail-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('logTail', () => {
  it('quotes the last lines, each marked, without a trailing blank line', () => {
    const file = path.join(dir, 'etcd.log');
    fs.writeFileSync(file, Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n\n');
    const tail = logTail(file, 3).split('\n');
    expect(tail).toEqual(['  | line 48', '  | line 49', '  | line 50']);
  });

  it('reads only the end of a large log', () => {
    const file = path.join(dir, 'big.log');
    fs.writeFileSync(file, 'x'.repeat(5_000_000) + '\nthe cause\n');
    expect(logTail(file, 1)).toBe('  | the cause');
  });

  it('says when the log is missing or empty', () => {
    const empty = path.join(dir, 'empty.log');
    fs.writeFileSync(empty, '');
    expect(logTail(empty)).toBe(`  (${empty} is empty)`);
    expect(logTail(path.join(dir, 'none.log'))).toBe(`  (no log at ${path.join(dir, 'none.log')})`);
  });
});
