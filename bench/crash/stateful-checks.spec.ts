import { describe, expect, it } from 'vitest';
import { compareOnce, compareRows, expectedSessions } from './stateful-checks';

const T = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

describe('expectedSessions', () => {
  it('extends a session while rows come within the gap and starts a new one after it', () => {
    const rows = [
      { user: 'a', tsMs: T, bytes: 1 },
      { user: 'b', tsMs: T + 1_000, bytes: 10 },
      { user: 'a', tsMs: T + 10_000, bytes: 2 },
      { user: 'a', tsMs: T + 30_000, bytes: 4 }, // 20 s after the last: a new session
    ];
    expect(expectedSessions(rows, 15_000)).toEqual(
      new Map([
        [`a|${iso(T)}`, { clicks: 2, bytes: 3, endMs: T + 25_000 }],
        [`a|${iso(T + 30_000)}`, { clicks: 1, bytes: 4, endMs: T + 45_000 }],
        [`b|${iso(T + 1_000)}`, { clicks: 1, bytes: 10, endMs: T + 16_000 }],
      ]),
    );
  });

  it('refuses input out of event-time order (its sessions could merge: not what the test models)', () => {
    expect(() =>
      expectedSessions(
        [
          { user: 'a', tsMs: T + 5_000, bytes: 1 },
          { user: 'a', tsMs: T, bytes: 1 },
        ],
        15_000,
      ),
    ).toThrow(/out of order for a/);
  });
});

describe('compareRows / compareOnce', () => {
  it('counts missing, differing and unexpected rows', () => {
    const same = (x: number, y: number) => x === y;
    const c = compareRows(
      new Map([
        ['k1', 1],
        ['k2', 2],
        ['k3', 3],
      ]),
      new Map([
        ['k1', 1],
        ['k2', 5],
        ['k9', 9],
      ]),
      same,
      String,
    );
    expect(c).toEqual({ lost: 1, wrong: 2, samples: ['k2: 5, expected 2', 'k9: 9, not expected'] });
  });

  it('counts each id once: lost, duplicated and wrong values', () => {
    const r = compareOnce(
      new Map([
        [1, 10],
        [2, 20],
        [3, 30],
      ]),
      new Map([
        [1, { n: 1, value: 10 }],
        [2, { n: 3, value: 21 }],
        [4, { n: 1, value: 40 }],
      ]),
      (a, b) => a === b,
    );
    expect(r).toEqual({ lost: 1, duplicated: 2, wrong: 2 });
  });
});
