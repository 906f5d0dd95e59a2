import { describe, expect, it, vi } from 'vitest';
import type { Query } from '../generated/prisma/client';
import { markGood, rollbackTarget } from './good-versions';

const query = (o: Partial<Query>): Query =>
  ({
    id: 'q',
    desiredVersion: 2,
    checkpointEpoch: 0,
    lastGoodVersion: null,
    lastGoodCheckpointEpoch: null,
    previousGoodVersion: null,
    previousGoodCheckpointEpoch: null,
    ...o,
  }) as Query;

describe('rollbackTarget', () => {
  it('is the last good pair when the query runs something else', () => {
    expect(
      rollbackTarget(query({ desiredVersion: 3, lastGoodVersion: 2, lastGoodCheckpointEpoch: 0 })),
    ).toEqual({
      version: 2,
      checkpointEpoch: 0,
    });
    // Same version on another checkpoint is something else too.
    expect(
      rollbackTarget(
        query({ desiredVersion: 2, checkpointEpoch: 1, lastGoodVersion: 2, lastGoodCheckpointEpoch: 0 }),
      ),
    ).toEqual({ version: 2, checkpointEpoch: 0 });
  });

  it('is the good pair before when the query runs the last good one, and none without history', () => {
    expect(
      rollbackTarget(
        query({
          desiredVersion: 3,
          checkpointEpoch: 1,
          lastGoodVersion: 3,
          lastGoodCheckpointEpoch: 1,
          previousGoodVersion: 2,
        }),
      ),
    ).toEqual({ version: 2, checkpointEpoch: 0 });
    expect(rollbackTarget(query({ lastGoodVersion: 2, lastGoodCheckpointEpoch: 0 }))).toBeNull();
    expect(rollbackTarget(query({}))).toBeNull();
  });
});

describe('markGood', () => {
  const db = (q: Query) => {
    const update = vi.fn().mockResolvedValue(q);
    return { update, query: { findUnique: vi.fn().mockResolvedValue(q), update } };
  };

  it('shifts the last good pair to previous when a new one becomes good', async () => {
    const d = db(query({ lastGoodVersion: 1, lastGoodCheckpointEpoch: 0 }));
    await markGood(d as never, 'q', { version: 2, checkpointEpoch: 1 });
    expect(d.update).toHaveBeenCalledWith({
      where: { id: 'q' },
      data: {
        lastGoodVersion: 2,
        lastGoodCheckpointEpoch: 1,
        previousGoodVersion: 1,
        previousGoodCheckpointEpoch: 0,
      },
    });
  });

  it('writes nothing when the pair already is the last good one', async () => {
    const d = db(query({ lastGoodVersion: 2, lastGoodCheckpointEpoch: 1 }));
    await markGood(d as never, 'q', { version: 2, checkpointEpoch: 1 });
    expect(d.update).not.toHaveBeenCalled();
  });
});
