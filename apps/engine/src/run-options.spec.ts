import { describe, expect, it } from 'vitest';
import { DEFAULT_WARMUP_RECORDS, MAX_WARMUP_RECORDS } from './exec/batch-path-warmup';
import { parseRunFlags } from './run-options';

const base = ['--spec', 's.yaml', '--checkpoint', '/tmp/cp', '--query-id', 'q', '--brokers', 'h:9092'];

describe('parseRunFlags --warm-up-records', () => {
  it('defaults to the first batch bound, and takes the flag over the environment', () => {
    expect(parseRunFlags(base, {})['warm-up-records']).toBe(DEFAULT_WARMUP_RECORDS);
    expect(parseRunFlags(base, { SLUICE_WARMUP_RECORDS: '0' })['warm-up-records']).toBe(0);
    expect(
      parseRunFlags([...base, '--warm-up-records', '700'], { SLUICE_WARMUP_RECORDS: '0' })['warm-up-records'],
    ).toBe(700);
  });

  it('refuses a negative, fractional or too large count, naming the flag', () => {
    for (const bad of ['-1', '2.5', 'many'])
      expect(() => parseRunFlags([...base, `--warm-up-records=${bad}`], {})).toThrow(/^--warm-up-records: /);
    expect(() => parseRunFlags([...base, `--warm-up-records=${MAX_WARMUP_RECORDS + 1}`], {})).toThrow(
      `--warm-up-records: must be at most ${MAX_WARMUP_RECORDS}`,
    );
  });
});
