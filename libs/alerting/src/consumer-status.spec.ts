// Crafted commit histories for each of Burrow's partition statuses. Rules and their order are
// those of linkedin/Burrow core/internal/evaluator/caching.go and its wiki page
// "Consumer Lag Evaluation Rules"; the histories below are our own.
import { describe, expect, it } from 'vitest';
import {
  consumerStatus,
  lagAlwaysNonZero,
  lagNotDecreasing,
  offsetsRewind,
  offsetsStalled,
  offsetsStopped,
  partitionStatus,
  recentLagZero,
  type OffsetCommit,
  type PartitionInput,
} from './index';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

/** Commits one minute apart starting at T0, from [offset, lag] pairs. */
function commits(pairs: ReadonlyArray<readonly [number, number]>): OffsetCommit[] {
  return pairs.map(([offset, lag], i) => ({ offset, lag, timestampMs: T0 + i * MIN }));
}

function lastAt(history: readonly OffsetCommit[]): number {
  return history[history.length - 1]!.timestampMs;
}

function partition(
  history: OffsetCommit[],
  logEndOffset: number,
  extra: Partial<PartitionInput> = {},
): PartitionInput {
  return { topic: 'clicks', partition: 0, commits: history, logEndOffset, ...extra };
}

// Five commits spanning 4 minutes: STOP only once more than 4 minutes have passed since the last.
const advancingGrowingLag = commits([
  [100, 10],
  [200, 20],
  [300, 30],
  [400, 40],
  [500, 50],
]);

describe('Burrow rule predicates (caching.go)', () => {
  it('Rule 1 isLagAlwaysNotZero: false as soon as one commit in the window had zero lag', () => {
    expect(
      lagAlwaysNonZero(
        commits([
          [1, 5],
          [2, 0],
          [3, 5],
        ]),
      ),
    ).toBe(false);
    expect(
      lagAlwaysNonZero(
        commits([
          [1, 5],
          [2, 1],
          [3, 5],
        ]),
      ),
    ).toBe(true);
  });

  it('Rule 2 checkIfOffsetsRewind: any decrease between consecutive commits', () => {
    expect(
      offsetsRewind(
        commits([
          [10, 1],
          [20, 1],
          [15, 1],
          [30, 1],
        ]),
      ),
    ).toBe(true);
    expect(
      offsetsRewind(
        commits([
          [10, 1],
          [10, 1],
          [30, 1],
        ]),
      ),
    ).toBe(false);
  });

  it('Rule 3 checkIfOffsetsStopped: now - last > last - first, strictly', () => {
    const w = advancingGrowingLag; // spans 4 minutes
    expect(offsetsStopped(w, lastAt(w) + 4 * MIN)).toBe(false);
    expect(offsetsStopped(w, lastAt(w) + 4 * MIN + 1)).toBe(true);
  });

  it('Rule 3 with a single commit: any time after it counts as stopped (the window spans 0 ms)', () => {
    const w = commits([[100, 5]]);
    expect(offsetsStopped(w, lastAt(w))).toBe(false);
    expect(offsetsStopped(w, lastAt(w) + 1)).toBe(true);
  });

  it('Rule 4 checkIfOffsetsStalled: offset identical across the whole window', () => {
    expect(
      offsetsStalled(
        commits([
          [7, 1],
          [7, 2],
          [7, 3],
        ]),
      ),
    ).toBe(true);
    expect(
      offsetsStalled(
        commits([
          [7, 1],
          [8, 2],
          [8, 3],
        ]),
      ),
    ).toBe(false);
  });

  it('Rule 5 checkIfLagNotDecreasing: fixed or growing lag, one decrease anywhere clears it', () => {
    expect(
      lagNotDecreasing(
        commits([
          [1, 5],
          [2, 5],
          [3, 9],
        ]),
      ),
    ).toBe(true);
    expect(
      lagNotDecreasing(
        commits([
          [1, 5],
          [2, 5],
          [3, 5],
        ]),
      ),
    ).toBe(true);
    expect(
      lagNotDecreasing(
        commits([
          [1, 5],
          [2, 4],
          [3, 9],
        ]),
      ),
    ).toBe(false);
  });

  it('checkIfRecentLagZero: a recent log-end offset at or below the last commit', () => {
    const w = commits([
      [100, 5],
      [200, 5],
    ]);
    expect(recentLagZero(w, [150, 200])).toBe(true);
    expect(recentLagZero(w, [201, 260])).toBe(false);
    expect(recentLagZero(w, [])).toBe(false);
  });
});

describe('partitionStatus: Burrow calculatePartitionStatus', () => {
  it('OK: offsets advance and the lag shrinks (rule 5 does not apply)', () => {
    const h = commits([
      [100, 50],
      [200, 40],
      [300, 45],
      [400, 30],
    ]);
    const r = partitionStatus(partition(h, 430), lastAt(h) + MIN);
    expect(r.status).toBe('OK');
    expect(r.currentLag).toBe(30);
  });

  it('OK: current lag zero is never an error, even for a stalled, stopped history', () => {
    const h = commits([
      [100, 5],
      [100, 5],
      [100, 5],
    ]);
    const r = partitionStatus(partition(h, 100), lastAt(h) + 60 * MIN);
    expect(r.status).toBe('OK');
    expect(r.currentLag).toBe(0);
  });

  it('OK (rule 1): lag zero at any point in the window hides stall, rewind and warning', () => {
    const stalled = commits([
      [100, 0],
      [100, 10],
      [100, 20],
    ]);
    expect(partitionStatus(partition(stalled, 120), lastAt(stalled)).status).toBe('OK');
    const rewound = commits([
      [100, 5],
      [50, 0],
      [60, 9],
    ]);
    expect(partitionStatus(partition(rewound, 69), lastAt(rewound)).status).toBe('OK');
    const growing = commits([
      [100, 0],
      [200, 10],
      [300, 20],
    ]);
    expect(partitionStatus(partition(growing, 320), lastAt(growing)).status).toBe('OK');
  });

  it('WARNING (rule 5): offsets advance while the lag grows across the window', () => {
    const r = partitionStatus(partition(advancingGrowingLag, 560), lastAt(advancingGrowingLag) + MIN);
    expect(r.status).toBe('WARNING');
  });

  it('WARNING (rule 5): a flat non-zero lag counts too, as in Burrow ("fixed or increasing")', () => {
    const h = commits([
      [100, 30],
      [200, 30],
      [300, 30],
    ]);
    expect(partitionStatus(partition(h, 330), lastAt(h)).status).toBe('WARNING');
  });

  it('STALL (rule 4): commits keep coming but the offset does not move while there is lag', () => {
    const h = commits([
      [500, 10],
      [500, 20],
      [500, 30],
      [500, 40],
    ]);
    expect(partitionStatus(partition(h, 540), lastAt(h) + MIN).status).toBe('STALL');
  });

  it('STALL beats WARNING: a stalled offset with growing lag is STALL', () => {
    const h = commits([
      [500, 10],
      [500, 20],
      [500, 30],
    ]);
    expect(partitionStatus(partition(h, 530), lastAt(h)).status).toBe('STALL');
  });

  it('REWIND (rule 2): the committed offset goes backwards', () => {
    const h = commits([
      [1000, 10],
      [2000, 10],
      [1500, 600],
      [2500, 20],
    ]);
    expect(partitionStatus(partition(h, 2520), lastAt(h)).status).toBe('REWIND');
  });

  it('REWIND beats STALL: a window that rewinds and then sits still is REWIND', () => {
    const h = commits([
      [900, 10],
      [800, 110],
      [800, 120],
      [800, 130],
    ]);
    expect(offsetsStalled(h.slice(1))).toBe(true);
    expect(partitionStatus(partition(h, 930), lastAt(h)).status).toBe('REWIND');
  });

  it('STOP (rule 3): no commit for longer than the window spans while there is lag', () => {
    const h = commits([
      [100, 5],
      [200, 5],
      [300, 4],
      [400, 3],
    ]); // spans 3 minutes, lag shrinking
    expect(partitionStatus(partition(h, 403), lastAt(h) + 3 * MIN).status).toBe('OK');
    expect(partitionStatus(partition(h, 403), lastAt(h) + 3 * MIN + 1).status).toBe('STOP');
  });

  it('STOP is checked before rule 1 (Burrow #290): an old zero-lag commit does not hide a stop', () => {
    const h = commits([
      [100, 0],
      [200, 10],
      [300, 20],
    ]);
    expect(partitionStatus(partition(h, 320), lastAt(h) + 10 * MIN).status).toBe('STOP');
  });

  it("STOP beats REWIND in Burrow's order", () => {
    const h = commits([
      [300, 5],
      [200, 10],
      [250, 12],
    ]);
    expect(partitionStatus(partition(h, 262), lastAt(h) + 10 * MIN).status).toBe('STOP');
  });

  it('STOP is held back when a recent log-end offset shows the consumer was caught up (checkIfRecentLagZero)', () => {
    const h = commits([
      [100, 5],
      [200, 5],
    ]);
    const input = partition(h, 210, { recentLogEndOffsets: [200, 205, 210] });
    expect(partitionStatus(input, lastAt(h) + 10 * MIN).status).not.toBe('STOP');
    expect(partitionStatus(partition(h, 210), lastAt(h) + 10 * MIN).status).toBe('STOP');
  });

  it('negative stored lags are clamped to zero, as Burrow stores them', () => {
    const h = commits([
      [100, -3],
      [200, 10],
      [300, 20],
    ]);
    expect(partitionStatus(partition(h, 320), lastAt(h)).status).toBe('OK');
  });
});

describe('partitionStatus: Burrow window (storage `intervals`, evaluator `minimum-complete`)', () => {
  it('uses only the last N commits: an old rewind slides out of the window', () => {
    const h = commits([
      [900, 5],
      [100, 10],
      [200, 20],
      [300, 30],
      [400, 40],
    ]);
    expect(partitionStatus(partition(h, 440), lastAt(h), { windowSize: 5 }).status).toBe('REWIND');
    const r = partitionStatus(partition(h, 440), lastAt(h), { windowSize: 4 });
    expect(r.status).toBe('WARNING');
    expect(r.start?.offset).toBe(100);
    expect(r.end?.offset).toBe(400);
    expect(r.complete).toBe(1);
  });

  it('a window that is not full reports its filled fraction and is still evaluated by default', () => {
    const h = commits([
      [500, 10],
      [500, 20],
      [500, 30],
    ]);
    const r = partitionStatus(partition(h, 530), lastAt(h)); // default window of 10
    expect(r.complete).toBeCloseTo(0.3);
    expect(r.status).toBe('STALL');
  });

  it('minimumComplete: an incomplete window below the threshold is reported OK', () => {
    const h = commits([
      [500, 10],
      [500, 20],
      [500, 30],
    ]);
    const r = partitionStatus(partition(h, 530), lastAt(h), { minimumComplete: 0.5 });
    expect(r.status).toBe('OK');
    expect(r.complete).toBeCloseTo(0.3);
  });

  it('one commit is not judged (Burrow would say STOP): a new query with a backlog is OK until its second', () => {
    const h = commits([[500, 30]]);
    const one = partitionStatus(partition(h, 530), lastAt(h) + 10_000);
    expect(one).toMatchObject({ status: 'OK', currentLag: 30 });
    expect(offsetsStopped(h, lastAt(h) + 10_000)).toBe(true); // what Burrow's rule alone says
    // The second commit, unmoved, with the lag still there: judged, and stalled.
    const two = commits([
      [500, 30],
      [500, 40],
    ]);
    expect(partitionStatus(partition(two, 540), lastAt(two)).status).toBe('STALL');
  });

  it('no commits at all: OK, nothing known, complete 0', () => {
    const r = partitionStatus(partition([], 1000), T0);
    expect(r).toMatchObject({ status: 'OK', currentLag: null, complete: 0, start: null, end: null });
  });

  it('rejects a window size that is not a positive integer', () => {
    expect(() => partitionStatus(partition([], 0), T0, { windowSize: 0 })).toThrow(RangeError);
  });
});

describe('consumerStatus: Burrow evaluateConsumerStatus', () => {
  const ok = commits([
    [100, 20],
    [200, 10],
    [300, 5],
  ]);
  const warning = commits([
    [100, 10],
    [200, 20],
    [300, 30],
  ]);
  const stall = commits([
    [100, 10],
    [100, 20],
    [100, 30],
  ]);

  it('the group takes the worst partition; STOP/STALL/REWIND collapse to level ERROR', () => {
    const r = consumerStatus(
      {
        nowMs: lastAt(ok),
        partitions: [
          { topic: 'clicks', partition: 0, commits: ok, logEndOffset: 305 },
          { topic: 'clicks', partition: 1, commits: stall, logEndOffset: 130 },
          { topic: 'clicks', partition: 2, commits: warning, logEndOffset: 330 },
        ],
      },
      { windowSize: 3 },
    );
    expect(r.status).toBe('STALL');
    expect(r.level).toBe('ERROR');
    expect(r.partitions.map((p) => p.status)).toEqual(['OK', 'STALL', 'WARNING']);
    expect(r.totalLag).toBe(5 + 30 + 30);
    expect(r.maxLag?.partition).toBe(1);
    expect(r.complete).toBe(true);
    expect(r.completeness).toBe(1);
  });

  it('WARNING partitions only give level WARNING', () => {
    const r = consumerStatus(
      {
        nowMs: lastAt(warning),
        partitions: [{ topic: 't', partition: 0, commits: warning, logEndOffset: 330 }],
      },
      { windowSize: 3 },
    );
    expect(r).toMatchObject({ status: 'WARNING', level: 'WARNING' });
  });

  it('complete is false while any partition window is not full; completeness is the full share', () => {
    const r = consumerStatus(
      {
        nowMs: lastAt(ok),
        partitions: [
          { topic: 't', partition: 0, commits: ok, logEndOffset: 305 },
          { topic: 't', partition: 1, commits: ok.slice(0, 2), logEndOffset: 210 },
        ],
      },
      { windowSize: 3 },
    );
    expect(r.complete).toBe(false);
    expect(r.completeness).toBe(0.5);
    expect(r.partitions[1]!.complete).toBeCloseTo(2 / 3);
  });

  it('no partitions: OK, not complete', () => {
    const r = consumerStatus({ nowMs: T0, partitions: [] });
    expect(r).toMatchObject({
      status: 'OK',
      level: 'OK',
      complete: false,
      completeness: 0,
      totalLag: 0,
      maxLag: null,
    });
  });
});
