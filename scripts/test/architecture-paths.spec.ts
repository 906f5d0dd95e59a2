// ARCHITECTURE.md is the design of record and tells readers where things live: every repository
// path it names in backticks must exist, so the document cannot silently drift from the tree.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const TOP_LEVEL = [
  'apps',
  'libs',
  'scripts',
  'prisma',
  'bench',
  'tools',
  'patches',
  'grafana',
  'helm',
  'e2e',
];

/**
 * Backticked tokens that are paths in this repository (a top-level folder, no placeholders),
 * except on lines about parts marked **planned**, whose folders do not exist yet.
 */
export function namedPaths(markdown: string): string[] {
  const found = new Set<string>();
  const current = markdown
    .split('\n')
    .filter((line) => !/\bplanned\b/.test(line))
    .join('\n');
  for (const m of current.matchAll(/`([^`\s]+)`/g)) {
    const token = m[1]!.replace(/[.,:;)]+$/, '');
    const first = token.split('/')[0]!;
    if (!TOP_LEVEL.includes(first) || !token.includes('/')) continue;
    if (/[<>{}*$]|\.\.\./.test(token)) continue; // patterns and placeholders, not paths
    found.add(token);
  }
  return [...found].sort();
}

describe('ARCHITECTURE.md', () => {
  it('names only paths that exist', () => {
    const paths = namedPaths(fs.readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
    expect(paths.length).toBeGreaterThan(20);
    const missing = paths.filter((p) => !fs.existsSync(path.join(ROOT, p)));
    expect(missing).toEqual([]);
  });

  it('recognises paths and skips placeholders', () => {
    expect(
      namedPaths('see `libs/x/y.ts`, `apps/a/<name>.ts`, `sluice.<id>.dlq` and `scripts/s.ts`.'),
    ).toEqual(['libs/x/y.ts', 'scripts/s.ts']);
  });
});
