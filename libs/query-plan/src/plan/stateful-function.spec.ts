// `stateful:` in the spec: compile checks (module path bounded to the spec's folder, key columns,
// timeout's watermark, output mode), the plan and its state schema, GroupState, upgrade rules.
import { describe, expect, it } from 'vitest';
import { checkUpgradeText, compileSpec, createGroupState, type StatefulFunctionOperator } from '../index';
import { normaliseModulePath } from './stateful-function';

function spec(stateful: string, { watermark = true, outputMode = 'append' } = {}): string {
  return `name: q
sources:
  clicks:
    kafka: { topic: clicks }
    format: json
    schema: { user_id: string, ts: timestamp }
${watermark ? '    watermark: { column: ts, delay: 1 minute }' : ''}
sql: SELECT user_id, ts FROM clicks
stateful: ${stateful}
sink: { console: {} }
outputMode: ${outputMode}
`;
}
const FN =
  '{ module: ./fn/sessionize.ts, export: sessionize, key: [user_id], timeout: eventTime, stateSchema: { clicks: long }, output: { user_id: string, clicks: long } }';

const errors = (text: string) => {
  const r = compileSpec(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors.map((e) => `${e.path}: ${e.message}`);
};

describe('stateful function compile', () => {
  it('adds a stateful operator after the projection, with its state schema and declared output', () => {
    const r = compileSpec(spec(FN));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.plan.kind).toBe('stateful');
    expect(r.plan.operators.map((o) => o.op)).toEqual(['scan', 'project', 'stateful']);
    const op = r.plan.operators.at(-1) as StatefulFunctionOperator;
    expect(op).toMatchObject({
      module: 'fn/sessionize.ts',
      export: 'sessionize',
      key: ['user_id'],
      timeout: 'eventTime',
      stateSchema: { key: [{ name: 'user_id', type: 'string' }], value: [{ name: 'clicks', type: 'long' }] },
    });
    expect(r.plan.output).toEqual([
      { name: 'user_id', type: 'string' },
      { name: 'clicks', type: 'long' },
    ]);
  });

  it('keeps the module inside the spec folder', () => {
    expect(normaliseModulePath('./a/../b/f.ts')).toEqual({ ok: true, path: 'b/f.ts' });
    expect(errors(spec(FN.replace('./fn/sessionize.ts', '../other/f.ts')))).toEqual([
      `stateful.module: module "../other/f.ts" must stay inside the spec's folder (it climbs out with ..)`,
    ]);
    expect(errors(spec(FN.replace('./fn/sessionize.ts', '/etc/f.ts')))[0]).toMatch(
      /^stateful\.module: module "\/etc\/f\.ts" must be a relative path/,
    );
    expect(errors(spec(FN.replace('./fn/sessionize.ts', './f.json')))[0]).toMatch(
      /must name a \.ts, \.mts, \.js, \.mjs file/,
    );
  });

  it('refuses a key that is not an output column, eventTime without a watermark, complete mode', () => {
    expect(errors(spec(FN.replace('key: [user_id]', 'key: [nope]')))).toEqual([
      'stateful.key[0]: key column "nope" is not an output column of the SQL (user_id, ts)',
    ]);
    expect(errors(spec(FN, { watermark: false }))).toEqual([
      'stateful.timeout: timeout eventTime needs a watermark: add sources.clicks.watermark (a key times out when the watermark passes its timeout timestamp)',
    ]);
    expect(errors(spec(FN, { outputMode: 'complete' }))[0]).toMatch(
      /^outputMode: complete output mode needs an aggregation/,
    );
    expect(errors(spec(FN.replace('export: sessionize', 'export: "a-b"')))[0]).toMatch(
      /^stateful\.export: export must be a JavaScript identifier/,
    );
  });
});

describe('GroupState', () => {
  const make = (timeout: 'none' | 'eventTime' | 'processingTime', value?: Record<string, unknown>) =>
    createGroupState({
      value,
      timeout,
      hasTimedOut: false,
      watermarkMs: 1_000,
      nowMs: 5_000,
      stateFields: ['n'],
    });

  it('gets, updates, removes, and keeps a timeout only when set in the call', () => {
    const { state, result } = make('eventTime', { n: 1 });
    expect(state.exists()).toBe(true);
    expect(state.get()).toEqual({ n: 1 });
    state.update({ n: 2 });
    expect(result()).toEqual({ value: { n: 2 }, timeoutMs: undefined });
    state.setTimeoutTimestamp(9_000);
    expect(result()).toEqual({ value: { n: 2 }, timeoutMs: 9_000 });
    state.remove();
    expect(result()).toEqual({ value: undefined, timeoutMs: undefined });
  });

  it('refuses misuse: fields outside stateSchema, the wrong timeout kind, a timestamp behind the watermark', () => {
    const { state } = make('eventTime');
    expect(() => state.update({ n: 1, other: 2 })).toThrow(/other not in stateSchema \(n\)/);
    expect(() => state.setTimeoutDuration(10)).toThrow(/needs timeout: processingTime/);
    expect(() => state.setTimeoutTimestamp(500)).toThrow(/before the watermark 1000/);
    const p = make('processingTime');
    p.state.update({ n: 1 });
    p.state.setTimeoutDuration(100);
    expect(p.result().timeoutMs).toBe(5_100);
    expect(() => p.state.setTimeoutTimestamp(9_000)).toThrow(/needs timeout: eventTime/);
  });
});

describe('stateful function upgrade rules', () => {
  const report = (before: string, after: string) => {
    const r = checkUpgradeText(spec(before), spec(after));
    if (!r.ok) throw new Error(JSON.stringify(r));
    return r.report;
  };

  it('a changed state schema is incompatible, naming before and after', () => {
    const r = report(
      FN,
      FN.replace('stateSchema: { clicks: long }', 'stateSchema: { clicks: long, last: timestamp }'),
    );
    expect(r.compatible).toBe(false);
    expect(r.changes).toEqual([
      expect.objectContaining({
        kind: 'stateful.stateSchema',
        operator: 'stateful',
        before: '[clicks long]',
        after: '[clicks long, last timestamp]',
      }),
    ]);
  });

  it('new code on the same state layout is a caveat', () => {
    const r = report(FN, FN.replace('export: sessionize', 'export: sessionizeV2'));
    expect(r.compatible).toBe(true);
    expect(r.changes).toEqual([expect.objectContaining({ kind: 'stateful.function', severity: 'caveat' })]);
  });
});

describe('inline stateful code (stateful.source)', () => {
  const spec = (source?: string) => `name: q
sources:
  clicks: { kafka: { topic: clicks }, format: json, schema: { user_id: string } }
sql: SELECT user_id FROM clicks
stateful:
  module: ./count.ts
  export: count
  key: [user_id]
  stateSchema: { n: long }
  output: { user_id: string }
${source === undefined ? '' : `  source: ${JSON.stringify(source)}\n`}sink: { console: {} }
outputMode: update
`;
  const compiled = (source?: string) => {
    const r = compileSpec(spec(source));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r;
  };

  it("puts the code's SHA-256 in the plan, so new code is a new plan hash and a caveat", () => {
    const a = compiled('export const count = () => [];');
    const b = compiled('export const count = () => [{}];');
    expect(compiled().planHash).not.toBe(a.planHash);
    expect(a.planHash).not.toBe(b.planHash);
    const report = checkUpgradeText(
      spec('export const count = () => [];'),
      spec('export const count = () => [{}];'),
    );
    if (!report.ok) throw new Error('did not compile');
    const changes = report.report.changes;
    expect(changes.map((c) => [c.kind, c.severity])).toEqual([['stateful.function', 'caveat']]);
  });

  it('refuses code over 64 KiB, naming the field', () => {
    const r = compileSpec(spec('x'.repeat(64 * 1024 + 1)));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors[0]).toMatchObject({ path: 'stateful.source', message: 'source is at most 64 KiB' });
  });
});
