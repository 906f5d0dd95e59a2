// The crash benchmark at CI size: random SIGKILLs, an added and a drained instance, five queries
// (Kafka and PostgreSQL sinks, a stream–static join, session windows, a stream–stream join); the
// outputs must equal the independently computed result.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('bench:crash (CI size)', () => {
  it('loses, duplicates and corrupts nothing across SIGKILLs, joins, sessions and a drain', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/crash/cli.ts',
        '--kills',
        '3',
        '--records',
        '10000',
        '--settle-seconds',
        '240',
        '--json',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      kills: number;
      lost: number;
      duplicated: number;
      wrong: number;
      expected: { filterRows: number; sessions: number; viewJoinRows: number };
      detail: {
        join: { lost: number; duplicated: number; wrong: number };
        viewJoin: { lost: number; duplicated: number; wrong: number };
        sessions: { lostSessions: number; wrongSessions: number; wrongSamples: string[] };
      };
    };
    expect(result.kills).toBe(3);
    expect(result.expected.filterRows).toBeGreaterThan(4000);
    expect(result.expected.sessions).toBeGreaterThan(1000);
    expect(result.expected.viewJoinRows).toBeGreaterThan(2000);
    expect({ lost: result.lost, duplicated: result.duplicated, wrong: result.wrong }).toEqual({
      lost: 0,
      duplicated: 0,
      wrong: 0,
    });
    // Counted in the totals above; checked on its own so a join-only failure is named.
    expect(result.detail.join).toEqual({ lost: 0, duplicated: 0, wrong: 0 });
    expect(result.detail.viewJoin).toEqual({ lost: 0, duplicated: 0, wrong: 0 });
    expect(result.detail.sessions).toEqual({ lostSessions: 0, wrongSessions: 0, wrongSamples: [] });
  }, 660_000);
});
