// `queries deploy/upgrade -f spec.yaml` sends a stateful function's module inline: read with the
// engine's rules (inside the spec's folder, symlinks too), and only when the spec has none inline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inlineStatefulModule } from '../src/stateful-module-file';

let dir: string;
const spec = (module: string, extra = '') =>
  `name: q # comment kept\nsql: SELECT a FROM s\nstateful:\n  module: ${module}\n  export: f\n${extra}`;

// The function under test imports the plan compiler on first use (the SQL parser: seconds on a
// loaded box, over the 5 s test timeout in a full unit run at load 9); loaded here instead.
beforeAll(() => import('@sluice/query-plan'), 60_000);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-module-'));
  fs.mkdirSync(path.join(dir, 'spec'));
  fs.writeFileSync(path.join(dir, 'spec', 'f.ts'), 'export const f = (k: unknown[]) => [];\n');
  fs.writeFileSync(path.join(dir, 'outside.ts'), 'export const f = () => [];\n');
  fs.symlinkSync(path.join(dir, 'outside.ts'), path.join(dir, 'spec', 'link.ts'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('inlineStatefulModule', () => {
  const file = () => path.join(dir, 'spec', 'spec.yaml');

  it('puts the module next to the spec into stateful.source, keeping the rest', async () => {
    const text = await inlineStatefulModule(file(), spec('./f.ts'));
    expect(parse(text).stateful.source).toBe('export const f = (k: unknown[]) => [];\n');
    expect(text).toContain('# comment kept');
  });

  it('leaves specs without a stateful function, or with inline code, as they are', async () => {
    const plain = 'name: q\nsql: SELECT 1\n';
    expect(await inlineStatefulModule(file(), plain)).toBe(plain);
    const inline = spec('./f.ts', '  source: "export const f = () => []"\n');
    expect(await inlineStatefulModule(file(), inline)).toBe(inline);
  });

  it('refuses a module outside the spec folder, through .. or a symlink, and a missing one', async () => {
    await expect(inlineStatefulModule(file(), spec('../outside.ts'))).rejects.toThrow(/climbs out/);
    await expect(inlineStatefulModule(file(), spec('./link.ts'))).rejects.toThrow(/outside/);
    await expect(inlineStatefulModule(file(), spec('./nope.ts'))).rejects.toThrow(/no such file/);
  });
});
