// options.dedupe.withinWatermark (Spark 3.5's dropDuplicatesWithinWatermark): plan, state
// schema, the executor's expiry, the compile-time refusal without a watermark and upgrade rules.
import { describe, expect, it } from 'vitest';
import { checkUpgradeText, compileSpec, instantiate, type DedupeOperator } from '../index';
import { querySpec, type SpecParts } from '../testing/spec-text';

const SQL = 'SELECT user_id, url, ts FROM clicks';
const WITHIN = '{ dedupe: { columns: [user_id], withinWatermark: true } }';
const PLAIN = '{ dedupe: { columns: [user_id] } }';

function ok(parts: SpecParts) {
  const result = compileSpec(querySpec(parts));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result;
}

describe('dedupe withinWatermark', () => {
  it('marks the operator, stores an expiry and computes it from the event time + delay', () => {
    const result = ok({ sql: SQL, options: WITHIN, outputMode: 'append' });
    const op = result.plan.operators.find((o) => o.op === 'dedupe') as DedupeOperator;
    expect(op.withinWatermark).toBe(true);
    expect(op.expiry).toEqual({ eventTimeColumn: 'ts', delayMs: 10_000 });
    expect(op.stateSchema.value).toEqual([{ name: 'expiresAt', type: 'timestamp' }]);
    const executor = instantiate(result.plan);
    expect(executor.dedupeExpiresAtMs({ user_id: 'u1', url: '/a', ts: 5_000 })).toBe(15_000);
    expect(executor.dedupeExpiresAtMs({ user_id: 'u1', url: '/a', ts: null })).toBeUndefined();
    expect(executor.dedupeKey({ user_id: 'u1', url: '/a', ts: 5_000 })).toBe(
      executor.dedupeKey({ user_id: 'u1', url: '/b', ts: 9_000 }),
    );
  });

  it('plain deduplication keeps the event time and has no expiry', () => {
    const result = ok({ sql: SQL, options: PLAIN });
    const op = result.plan.operators.find((o) => o.op === 'dedupe') as DedupeOperator;
    expect(op.withinWatermark).toBeUndefined();
    expect(op.stateSchema.value).toEqual([{ name: 'eventTime', type: 'timestamp' }]);
    expect(instantiate(result.plan).dedupeExpiresAtMs({ user_id: 'u1', ts: 5_000 })).toBeUndefined();
  });

  it('is refused without a watermark, at options.dedupe.withinWatermark', () => {
    const result = compileSpec(querySpec({ sql: SQL, options: WITHIN, watermark: false }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({
        path: 'options.dedupe.withinWatermark',
        line: expect.any(Number),
        message: expect.stringMatching(/^withinWatermark needs a watermark: add sources\.clicks\.watermark/),
      }),
    ]);
  });

  it('rejects a non-boolean withinWatermark', () => {
    const result = compileSpec(
      querySpec({ sql: SQL, options: '{ dedupe: { columns: [user_id], withinWatermark: 1 } }' }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.path).toBe('options.dedupe.withinWatermark');
  });
});

describe('dedupe withinWatermark upgrade rules', () => {
  const upgrade = (before: string, after: string) => {
    const result = checkUpgradeText(before, after);
    if (!result.ok) throw new Error(JSON.stringify(result));
    return result.report;
  };

  it('switching between plain and withinWatermark is incompatible', () => {
    const r = upgrade(querySpec({ sql: SQL, options: PLAIN }), querySpec({ sql: SQL, options: WITHIN }));
    expect(r.compatible).toBe(false);
    expect(r.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'dedupe.withinWatermark',
          severity: 'incompatible',
          operator: 'dedupe',
          before: 'plain',
          after: 'withinWatermark',
        }),
      ]),
    );
  });

  it('a new watermark delay is a caveat under withinWatermark', () => {
    const before = querySpec({ sql: SQL, options: WITHIN });
    const after = before.replace('delay: 10 seconds', 'delay: 1 minute');
    expect(after).not.toBe(before);
    const r = upgrade(before, after);
    expect(r.compatible).toBe(true);
    expect(r.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'dedupe.expiry',
          severity: 'caveat',
          before: '10000 ms',
          after: '60000 ms',
        }),
      ]),
    );
  });
});
