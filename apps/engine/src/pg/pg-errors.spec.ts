import { describe, expect, it } from 'vitest';
import { describePgError, isDatabaseUnavailable, isRowDataError } from './pg-errors';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('PostgreSQL error classes', () => {
  it('unreachable: socket errors, class 08, shutdowns, pg client messages, nested causes', () => {
    expect(isDatabaseUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'))).toBe(true);
    expect(
      isDatabaseUnavailable(withCode('terminating connection due to administrator command', '57P01')),
    ).toBe(true);
    expect(isDatabaseUnavailable(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(isDatabaseUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([withCode('x', 'ECONNREFUSED')], 'connect failed'))).toBe(
      true,
    );
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: withCode('x', 'ECONNRESET') }))).toBe(true);
  });

  it('not unreachable: data errors, auth, missing objects, plain errors', () => {
    expect(
      isDatabaseUnavailable(withCode('index row requires 10024 bytes, maximum size is 8191', '54000')),
    ).toBe(false);
    expect(isDatabaseUnavailable(withCode('password authentication failed', '28P01'))).toBe(false);
    expect(isDatabaseUnavailable(withCode('relation does not exist', '42P01'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('row data errors: classes 22, 23 and 54 only', () => {
    expect(isRowDataError(withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021'))).toBe(true);
    expect(isRowDataError(withCode('new row violates check constraint', '23514'))).toBe(true);
    expect(isRowDataError(withCode('index row requires 10024 bytes', '54000'))).toBe(true);
    expect(isRowDataError(withCode('deadlock detected', '40P01'))).toBe(false);
    expect(isRowDataError(withCode('connection failure', '08006'))).toBe(false);
    expect(isRowDataError(new Error('no code'))).toBe(false);
  });

  it('describes an error with its SQLSTATE, bounded', () => {
    expect(describePgError(withCode('index row requires 10024 bytes, maximum size is 8191', '54000'))).toBe(
      'SQLSTATE 54000: index row requires 10024 bytes, maximum size is 8191',
    );
    expect(describePgError(withCode('x'.repeat(2000), '22001'))).toHaveLength(500);
  });
});
