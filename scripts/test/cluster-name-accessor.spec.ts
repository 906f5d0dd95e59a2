// One accessor for the cluster a control plane belongs to: `clusterName(config)`
// (apps/control-plane/src/leadership/cluster-name.ts), which falls back to the runtime scope when
// SLUICE_CLUSTER_NAME is unset. Code reading the raw setting instead sees `undefined` on an
// installation that relies on the default, and scopes its rows to no cluster.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const ACCESSOR = 'apps/control-plane/src/leadership/cluster-name.ts';
/** Known exceptions with their reason (paths relative to the repository). */
const ALLOWED: Record<string, string> = {};
const RAW = /\.SLUICE_CLUSTER_NAME\b/;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (['node_modules', 'generated', '.next', 'dist'].includes(e.name)) continue;
      sources(p, out);
    } else if (/\.tsx?$/.test(e.name) && !/\.(spec|test)\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `file:line` of each read of the raw setting. */
export function rawReads(rel: string, text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, i) => (RAW.test(line) && !line.trim().startsWith('//') ? [`${rel}:${i + 1}`] : []));
}

describe('clusterName(config) is the one accessor of the cluster name', () => {
  it('the check finds a raw read and ignores a comment', () => {
    expect(rawReads('x.ts', '// SLUICE_CLUSTER_NAME.x\nconst c = this.config.SLUICE_CLUSTER_NAME;')).toEqual([
      'x.ts:2',
    ]);
  });

  it('no source but the accessor reads config.SLUICE_CLUSTER_NAME', () => {
    const found = ['apps', 'libs', 'bench']
      .flatMap((d) => sources(path.join(ROOT, d)))
      .map((f) => path.relative(ROOT, f).split(path.sep).join('/'))
      .filter((rel) => rel !== ACCESSOR && !(rel in ALLOWED))
      .flatMap((rel) => rawReads(rel, fs.readFileSync(path.join(ROOT, rel), 'utf8')));
    expect(found).toEqual([]);
  });

  it('every listed exception still reads the raw setting', () => {
    const stale = Object.keys(ALLOWED).filter(
      (rel) => rawReads(rel, fs.readFileSync(path.join(ROOT, rel), 'utf8')).length === 0,
    );
    expect(stale).toEqual([]);
  });
});
