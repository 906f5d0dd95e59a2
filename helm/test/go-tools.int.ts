// scripts/tools/go-tools.sh builds each pinned tool once per machine: a second run rebuilds
// nothing, and every binary in the cache is the module version go-tools.tsv pins.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TOOL_BUILD_TIMEOUT_MS, goTool, type GoTool } from './support/tools';

const pins = fs
  .readFileSync(path.join(ROOT, 'scripts/tools/go-tools.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l) => {
    const [name, pkg, version] = l.split('\t');
    return { name: name as GoTool, pkg: pkg!, version: version! };
  });

const bins = new Map<string, string>();
beforeAll(() => {
  for (const p of pins) bins.set(p.name, goTool(p.name));
}, TOOL_BUILD_TIMEOUT_MS);

describe('go-tools.sh', () => {
  it('pins helm, helm-docs and promtool', () => {
    expect(pins.map((p) => p.name).sort()).toEqual(['helm', 'helm-docs', 'promtool']);
  });

  it.each(pins)('$name in the cache is $pkg@$version', ({ name, pkg, version }) => {
    const r = spawnSync('go', ['version', '-m', bins.get(name)!], { encoding: 'utf8' });
    expect(r.stdout).toMatch(new RegExp(`\\tpath\\t${pkg.replaceAll('.', '\\.')}\\n`));
    expect(r.stdout).toMatch(new RegExp(`\\tmod\\t\\S+\\t${version.replaceAll('.', '\\.')}\\t`));
  });

  it('rebuilds nothing that is already built', () => {
    const r = spawnSync('bash', [path.join(ROOT, 'scripts/tools/go-tools.sh')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const p of pins) expect(r.stderr).toContain(`go-tools: ${p.name} ${p.version} already built`);
    expect(r.stderr).not.toContain('building');
  });
});
