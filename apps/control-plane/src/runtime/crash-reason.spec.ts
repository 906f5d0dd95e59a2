import { describe, expect, it } from 'vitest';
import { crashReasonFromLog, MAX_CRASH_REASON_CHARS } from './crash-reason';

const info = (msg: string) => JSON.stringify({ level: 30, time: '2026-12-01T00:00:00Z', msg });

describe('crashReasonFromLog', () => {
  it("prefers the engine's fatal stderr line over the info lines after it", () => {
    const log = [
      info('engine started'),
      'engine: index row requires 10024 bytes, maximum size is 8191',
      info('stopping'),
    ].join('\n');
    expect(crashReasonFromLog(log)).toBe('engine: index row requires 10024 bytes, maximum size is 8191');
  });

  it('reads a JSON log line at level error, with its err.message', () => {
    const log = [
      info('a'),
      JSON.stringify({ level: 50, msg: 'batch failed', err: { message: 'boom' } }),
      info('b'),
    ].join('\n');
    expect(crashReasonFromLog(log)).toBe('batch failed: boom');
  });

  it("finds the error line of Node's uncaught-exception report, not its stack or version", () => {
    const log = [
      info('engine started'),
      '/app/src/x.ts:10',
      '    throw new TypeError("x is not a function");',
      '    ^',
      '',
      'TypeError: x is not a function',
      '    at run (/app/src/x.ts:10:11)',
      '    at main (/app/src/cli.ts:3:1)',
      '',
      'Node.js v20.20.2',
      '',
    ].join('\n');
    expect(crashReasonFromLog(log)).toBe('TypeError: x is not a function');
  });

  it('falls back to the last line that is not an ordinary log line', () => {
    expect(crashReasonFromLog([info('started'), 'simulated startup failure', ''].join('\n'))).toBe(
      'simulated startup failure',
    );
  });

  it('says nothing when the log holds only ordinary lines (a SIGKILL leaves no reason)', () => {
    expect(
      crashReasonFromLog([info('started'), JSON.stringify({ level: 40, msg: 'slow' })].join('\n')),
    ).toBeUndefined();
    expect(crashReasonFromLog('')).toBeUndefined();
  });

  it('bounds the reason to one line of limited length', () => {
    const reason = crashReasonFromLog(`engine: ${'x'.repeat(5000)}`)!;
    expect(reason.length).toBe(MAX_CRASH_REASON_CHARS);
    expect(reason.endsWith('…')).toBe(true);
  });
});
