import { describe, expect, it } from 'vitest';
import { instanceReadShare } from './read-share';

describe('instanceReadShare', () => {
  it('gives the instance owning the hot partition its backlog share, not its partition share', () => {
    // 8 partitions, 2 instances of 4: the hot partition holds 9,000 of 10,000 records behind.
    const hot = instanceReadShare({
      limit: 1000,
      ownedPartitions: 4,
      totalPartitions: 8,
      ownedBacklog: 9000,
      totalBacklog: 10_000,
    });
    const cold = instanceReadShare({
      limit: 1000,
      ownedPartitions: 4,
      totalPartitions: 8,
      ownedBacklog: 1000,
      totalBacklog: 10_000,
    });
    expect(hot).toBe(900);
    expect(cold).toBe(100);
    expect(hot! + cold!).toBeLessThanOrEqual(1000);
  });

  it('floors shares so instances that saw the same backlog never exceed the cap together', () => {
    const backlogs = [1, 1, 1];
    const shares = backlogs.map((b) =>
      instanceReadShare({
        limit: 100,
        ownedPartitions: 1,
        totalPartitions: 3,
        ownedBacklog: b,
        totalBacklog: 3,
      }),
    );
    expect(shares).toEqual([33, 33, 33]);
  });

  it('falls back to the even share when nothing is behind (all idle)', () => {
    expect(
      instanceReadShare({
        limit: 1000,
        ownedPartitions: 2,
        totalPartitions: 8,
        ownedBacklog: 0,
        totalBacklog: 0,
      }),
    ).toBe(250);
  });

  it('falls back to the even share when the backlog is unknown', () => {
    expect(instanceReadShare({ limit: 1000, ownedPartitions: 2, totalPartitions: 8 })).toBe(250);
    expect(instanceReadShare({ limit: 1000, ownedPartitions: 2, totalPartitions: 8, ownedBacklog: 10 })).toBe(
      250,
    );
    expect(
      instanceReadShare({
        limit: 1000,
        ownedPartitions: 2,
        totalPartitions: 8,
        ownedBacklog: Number.NaN,
        totalBacklog: 100,
      }),
    ).toBe(250);
  });

  it('gives an instance with no backlog one record per trigger, so it is never starved', () => {
    expect(
      instanceReadShare({
        limit: 1000,
        ownedPartitions: 4,
        totalPartitions: 8,
        ownedBacklog: 0,
        totalBacklog: 500,
      }),
    ).toBe(1);
  });

  it('keeps the whole cap for a single owner, and no cap when there is none', () => {
    expect(
      instanceReadShare({
        limit: 1000,
        ownedPartitions: 8,
        totalPartitions: 8,
        ownedBacklog: 1,
        totalBacklog: 9,
      }),
    ).toBe(1000);
    expect(instanceReadShare({ limit: null, ownedPartitions: 1, totalPartitions: 8 })).toBeNull();
    expect(instanceReadShare({ limit: 1000, ownedPartitions: 0, totalPartitions: 0 })).toBe(1000);
  });

  it('clamps an owned backlog larger than the total (snapshots read at different moments)', () => {
    expect(
      instanceReadShare({
        limit: 1000,
        ownedPartitions: 1,
        totalPartitions: 8,
        ownedBacklog: 900,
        totalBacklog: 600,
      }),
    ).toBe(1000);
  });

  it('refuses a negative or non-finite cap or partition count with a clear error', () => {
    expect(() => instanceReadShare({ limit: -1, ownedPartitions: 1, totalPartitions: 2 })).toThrow(
      /rate limit/,
    );
    expect(() => instanceReadShare({ limit: 10, ownedPartitions: Number.NaN, totalPartitions: 2 })).toThrow(
      /owned partitions/,
    );
  });
});
