// Issue 13: no error is swallowed without a reason. Every `.catch(() => undefined)` (or `{}`) in the
// sources of apps/ and libs/ must carry a comment saying why dropping the error is right, on its
// line or in the comment block just above; anything else logs the error at warn with context.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const SWALLOW = /\.catch\(\s*\(\)\s*=>\s*(undefined|\{\s*\})\s*\)/;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (['node_modules', 'generated', 'test', '.next', 'dist'].includes(e.name)) continue;
      sources(p, out);
    } else if (/\.tsx?$/.test(e.name) && !/\.(spec|test)\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `file:line` of each swallowing catch with no comment on its line or in the 4 lines above. */
export function unexplained(file: string, text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (!SWALLOW.test(line)) return;
    const near = lines.slice(Math.max(0, i - 4), i + 1);
    if (!near.some((l) => l.includes('//'))) out.push(`${path.relative(ROOT, file)}:${i + 1}`);
  });
  return out;
}

describe('swallowed errors', () => {
  it('the check finds an unexplained one and accepts an explained one', () => {
    const x = path.join(ROOT, 'x.ts');
    expect(unexplained(x, 'a();\nb();\nc();\nd();\ne();\nawait f().catch(() => undefined);')).toEqual([
      'x.ts:6',
    ]);
    expect(unexplained(x, '// gone already: nothing to tell\nawait f().catch(() => {});')).toEqual([]);
  });

  it('every .catch(() => undefined) in apps/ and libs/ says why', () => {
    const found = ['apps', 'libs'].flatMap((d) =>
      sources(path.join(ROOT, d)).flatMap((f) => unexplained(f, fs.readFileSync(f, 'utf8'))),
    );
    expect(found).toEqual([]);
  });
});
