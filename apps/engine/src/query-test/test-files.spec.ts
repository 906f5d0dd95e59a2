import { describe, expect, it } from 'vitest';
import { MAX_TEST_LINE_BYTES, parseExpectFile, parseInputFile, parseTimestamp } from './test-files';

const buf = (...lines: string[]) => Buffer.from(lines.join('\n'), 'utf8');

describe('parseInputFile', () => {
  it('groups records into batches at markers, keeping each record line and value', () => {
    const batches = parseInputFile(
      'in',
      buf(
        '# a comment',
        'a,1',
        '',
        '{"x": 2}',
        '# batch',
        '# batch',
        'c',
        '# watermark 2026-01-01T00:01:00Z',
        'd',
      ),
    );
    expect(batches).toEqual([
      {
        records: [
          { line: 2, value: 'a,1' },
          { line: 4, value: '{"x": 2}' },
        ],
        closedAt: 5,
        restartAfter: false,
      },
      { records: [], closedAt: 6, restartAfter: false },
      {
        records: [{ line: 7, value: 'c' }],
        closedAt: 8,
        restartAfter: false,
        expectWatermarkMs: Date.UTC(2026, 0, 1, 0, 1),
      },
      { records: [{ line: 9, value: 'd' }], closedAt: undefined, restartAfter: false },
    ]);
  });

  it('"# restart" closes pending records as a batch and restarts after it; alone it adds no batch', () => {
    const batches = parseInputFile('in', buf('a', '# restart', 'b', '# batch', '# restart', 'c'));
    expect(batches.map((b) => [b.records.map((r) => r.value), b.restartAfter])).toEqual([
      [['a'], true],
      [['b'], true],
      [['c'], false],
    ]);
  });

  it('accepts CRLF line ends', () => {
    expect(
      parseInputFile('in', Buffer.from('a\r\n# batch\r\nb\r\n')).map((b) => b.records[0]?.value),
    ).toEqual(['a', 'b']);
  });

  it.each([
    [buf('a', '#batch now'), 'in:2: "# batch" takes no argument (got "now")'],
    [buf('a', '# watermark soon'), 'in:2: "# watermark" needs a timestamp'],
    [buf('# restart'), 'in:1: "# restart" before any batch has run'],
    [buf('a', '#flush'), 'in:2: unknown marker "#flush"'],
    [buf('a', '# Batch'), 'in:2: malformed marker "# Batch"'],
    [Buffer.concat([Buffer.from('a\n'), Buffer.from([0x7b, 0xff, 0x7d])]), 'in:2: not valid UTF-8'],
    [buf('a', 'x'.repeat(MAX_TEST_LINE_BYTES + 1)), `in:2: line longer than ${MAX_TEST_LINE_BYTES} bytes`],
  ])('names the line of a bad file (%#)', (data, message) => {
    expect(() => parseInputFile('in', data)).toThrow(message);
  });
});

describe('parseTimestamp', () => {
  it('reads ISO-8601 with a zone and epoch milliseconds, nothing else', () => {
    expect(parseTimestamp('2026-01-01T00:00:10.5+01:00')).toBe(Date.UTC(2025, 11, 31, 23, 0, 10, 500));
    expect(parseTimestamp('1767225600000')).toBe(1767225600000);
    expect(parseTimestamp('2026-01-01T00:00:10')).toBeUndefined();
    expect(parseTimestamp('2026-13-45T00:00:00Z')).toBeUndefined();
    expect(parseTimestamp('')).toBeUndefined();
  });
});

describe('parseExpectFile', () => {
  it('reads JSON rows per batch; a trailing "# batch" adds no empty batch', () => {
    const batches = parseExpectFile(
      'out',
      buf('{"a": 1}', '# comment', '{"a": 2}', '# batch', '# batch', '{"a": 3}', '# batch'),
    );
    expect(batches).toEqual([
      {
        line: 1,
        rows: [
          { line: 1, row: { a: 1 } },
          { line: 3, row: { a: 2 } },
        ],
      },
      { line: 5, rows: [] },
      { line: 6, rows: [{ line: 6, row: { a: 3 } }] },
    ]);
  });

  it.each([
    [buf('{"a": 1}', '{"a": '), 'out:2: not JSON'],
    [buf('[1, 2]'), 'out:1: an expected row is a JSON object'],
    [buf('{"a": 1}', '#batch2'), 'out:2: unknown marker "#batch2"'],
  ])('names the line of a bad expected file (%#)', (data, message) => {
    expect(() => parseExpectFile('out', data)).toThrow(message);
  });
});
