import { describe, expect, it } from 'vitest';
import { canonicalJson, compareOutput } from './compare-output';
import type { ExpectedBatch, InputBatch } from './test-files';

const inBatch = (lines: number[], expectWatermarkMs?: number): InputBatch => ({
  records: lines.map((line) => ({ line, value: '{}' })),
  closedAt: undefined,
  restartAfter: false,
  ...(expectWatermarkMs !== undefined ? { expectWatermarkMs } : {}),
});
const want = (...rows: Array<[number, Record<string, unknown>]>): ExpectedBatch => ({
  line: rows[0]?.[0] ?? 1,
  rows: rows.map(([line, row]) => ({ line, row })),
});

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });
});

describe('compareOutput', () => {
  it('is equal when each batch holds the same rows, in any order', () => {
    const r = compareOutput({
      input: [inBatch([1, 2])],
      produced: [
        {
          rows: [
            { u: 'b', n: 1 },
            { n: 2, u: 'a' },
          ],
          watermarkMs: undefined,
        },
      ],
      expected: [want([1, { u: 'a', n: 2 }], [2, { u: 'b', n: 1 }])],
      expectFile: 'out',
    });
    expect(r).toEqual({ equal: true, lines: [] });
  });

  it('lists missing (-) and unexpected (+) rows per batch, counting duplicates', () => {
    const r = compareOutput({
      input: [inBatch([1]), inBatch([3, 4])],
      produced: [
        { rows: [{ n: 1 }], watermarkMs: undefined },
        { rows: [{ n: 2 }, { n: 2 }], watermarkMs: undefined },
      ],
      expected: [want([1, { n: 1 }]), want([3, { n: 2 }], [4, { n: 3 }])],
      expectFile: 'out',
    });
    expect(r.equal).toBe(false);
    expect(r.lines).toEqual(['batch 1 (input lines 3-4):', '  - {"n":3}   (out:4)', '  + {"n":2}']);
  });

  it('reports a different number of batches and a wrong watermark', () => {
    const r = compareOutput({
      input: [inBatch([1], 60_000), inBatch([2])],
      produced: [
        { rows: [], watermarkMs: 50_000 },
        { rows: [{ n: 1 }], watermarkMs: 50_000 },
      ],
      expected: [want()],
      expectFile: 'out',
    });
    expect(r.lines).toEqual([
      'out: 1 expected batch(es), the input has 2 (batches end at "# batch" lines)',
      'batch 0 (input line 1):',
      '  watermark: expected 1970-01-01T00:01:00.000Z, got 1970-01-01T00:00:50.000Z',
      'batch 1 (input line 2):',
      '  + {"n":1}',
    ]);
  });
});
