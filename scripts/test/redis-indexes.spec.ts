// One registry of Redis test indexes (apps/control-plane/test/support/redis-indexes.ts): unique, in range, and the only place an
// index is written as a number.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_INDEXES, redisIndexProblems } from '../../apps/control-plane/test/support/redis-indexes';

const ROOT = path.resolve(__dirname, '..', '..');
const REGISTRY = path.join(ROOT, 'apps/control-plane/test/support/redis-indexes.ts');
const SCANNED = ['apps', 'bench', 'e2e', 'scripts'];
const SKIPPED = new Set(['node_modules', 'generated', 'dist', '.next']);

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sources(full, out);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** An index chosen with a number literal: isolatedStack('db', 15), redisDb: 12, REDIS_DB = 15, '/15'. */
const LITERAL_INDEX = [
  /isolatedStack\([^)]*,\s*\d+\s*\)/,
  /redisDb:\s*\d/,
  /REDIS_DB\s*=\s*\d/,
  /pathname\s*=\s*[`'"]\/\d/,
];

describe('Redis test indexes', () => {
  it('are unique, in 1..15, never 0 (the shared stack)', () => {
    expect(redisIndexProblems(REDIS_INDEXES)).toEqual([]);
  });

  it('a duplicate or an index out of range is named', () => {
    expect(redisIndexProblems({ a: 3, b: 4, c: 3, d: 0, e: 16 })).toEqual([
      "c: index 3 is already a's",
      "d: index 0 is not in 1..15 (0 is the shared stack's)",
      "e: index 16 is not in 1..15 (0 is the shared stack's)",
    ]);
  });

  it('are written as numbers nowhere but the registry', () => {
    const offenders: string[] = [];
    for (const top of SCANNED)
      for (const file of sources(path.join(ROOT, top))) {
        if (file === REGISTRY || file === __filename) continue;
        fs.readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (LITERAL_INDEX.some((re) => re.test(line)))
              offenders.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    expect(offenders).toEqual([]);
  });
});
