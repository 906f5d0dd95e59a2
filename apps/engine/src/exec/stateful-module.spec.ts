// Loading a stateful function: resolved against the spec's folder, never outside it (also not
// through a symlink), with clear errors for a missing file or export.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileSpec, type LogicalPlan } from '@sluice/query-plan';
import { loadStatefulFunction } from './stateful-module';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'sluice-stateful-'));
  fs.mkdirSync(path.join(dir, 'spec'));
  fs.mkdirSync(path.join(dir, 'elsewhere'));
  fs.writeFileSync(path.join(dir, 'spec', 'fn.mjs'), 'export function count(key, rows) { return rows; }\n');
  fs.writeFileSync(path.join(dir, 'elsewhere', 'evil.mjs'), 'export function count() { return []; }\n');
  fs.symlinkSync(path.join(dir, 'elsewhere', 'evil.mjs'), path.join(dir, 'spec', 'link.mjs'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function plan(module: string, exported = 'count'): LogicalPlan {
  const r = compileSpec(`name: q
sources:
  clicks: { kafka: { topic: clicks }, format: json, schema: { user_id: string } }
sql: SELECT user_id FROM clicks
stateful: { module: ${module}, export: ${exported}, key: [user_id], stateSchema: { n: long }, output: { user_id: string } }
sink: { console: {} }
outputMode: update
`);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

describe('loadStatefulFunction', () => {
  const specFile = () => path.join(dir, 'spec', 'spec.yaml');

  it('loads the named export from a module next to the spec', async () => {
    const fn = await loadStatefulFunction(plan('./fn.mjs'), specFile());
    expect(typeof fn).toBe('function');
  });

  it('refuses a symlink that leads out of the spec folder', async () => {
    await expect(loadStatefulFunction(plan('./link.mjs'), specFile())).rejects.toThrow(
      /resolves to .*elsewhere.*evil\.mjs, outside the spec's folder/,
    );
  });

  it('names a missing file and a missing export', async () => {
    await expect(loadStatefulFunction(plan('./nope.mjs'), specFile())).rejects.toThrow(
      /stateful\.module "nope\.mjs": no such file in/,
    );
    await expect(loadStatefulFunction(plan('./fn.mjs', 'other'), specFile())).rejects.toThrow(
      /has no exported function "other"/,
    );
  });
});

describe('loadStatefulFunction with compiled code', () => {
  const specFile = () => path.join(dir, 'spec', 'spec.yaml');

  it('compiles a TypeScript file next to the spec (as the plain-Node engine bundle must)', async () => {
    fs.writeFileSync(
      path.join(dir, 'spec', 'fn.ts'),
      'export function count(key: string[], rows: unknown[]): unknown[] { return rows.slice(0, 1); }\n',
    );
    const fn = await loadStatefulFunction(plan('./fn.ts'), specFile());
    expect(fn!(['a'], [{ x: 1 }, { x: 2 }], {} as never)).toEqual([{ x: 1 }]);
  });

  it('runs inline code (stateful.source) without reading a file', async () => {
    const source = 'export const count = (key: string[], rows: unknown[]) => [{ n: rows.length }];\n';
    const fn = await loadStatefulFunction(plan('./absent.ts'), specFile(), source);
    expect(fn!(['a'], [{}, {}], {} as never)).toEqual([{ n: 2 }]);
  });

  it('names the field when inline code does not compile or imports another file', async () => {
    await expect(
      loadStatefulFunction(plan('./m.ts'), specFile(), 'export function count( {'),
    ).rejects.toThrow(/stateful\.source \(m\.ts\) does not compile: 1:\d+ /);
    await expect(
      loadStatefulFunction(plan('./m.ts'), specFile(), 'import x from "./y"; export const count = x;'),
    ).rejects.toThrow(/Could not resolve "\.\/y" \(inline code is one file/);
  });
});
