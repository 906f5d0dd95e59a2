import { describe, expect, it } from 'vitest';
import type { Query } from '../generated/prisma/client';
import type { GoodVersionsChange } from '../repositories/query.repository';
import { markGood, rollbackTarget, type GoodVersionStore } from './good-versions';

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
  /** A typed fake of the query repository: one stored row, the writes it was asked for. */
  class FakeQueries implements GoodVersionStore {
    readonly writes: Array<{ id: string; change: GoodVersionsChange }> = [];
    constructor(private row: Query | null) {}
    async find(id: string): Promise<Query | null> {
      return this.row?.id === id ? this.row : null;
    }
    async recordGoodVersions(id: string, change: GoodVersionsChange): Promise<void> {
      this.writes.push({ id, change });
      if (this.row) this.row = { ...this.row, ...change };
    }
  }

  it('shifts the last good pair to previous when a new one becomes good', async () => {
    const queries = new FakeQueries(query({ lastGoodVersion: 1, lastGoodCheckpointEpoch: 0 }));
    await markGood(queries, 'q', { version: 2, checkpointEpoch: 1 });
    expect(queries.writes).toEqual([
      {
        id: 'q',
        change: {
          lastGoodVersion: 2,
          lastGoodCheckpointEpoch: 1,
          previousGoodVersion: 1,
          previousGoodCheckpointEpoch: 0,
        },
      },
    ]);
  });

  it('records the first good pair without a previous one', async () => {
    const queries = new FakeQueries(query({}));
    await markGood(queries, 'q', { version: 2, checkpointEpoch: 0 });
    expect(queries.writes).toEqual([{ id: 'q', change: { lastGoodVersion: 2, lastGoodCheckpointEpoch: 0 } }]);
  });

  it('writes nothing when the pair already is the last good one', async () => {
    const queries = new FakeQueries(query({ lastGoodVersion: 2, lastGoodCheckpointEpoch: 1 }));
    await markGood(queries, 'q', { version: 2, checkpointEpoch: 1 });
    expect(queries.writes).toEqual([]);
  });

  it('writes nothing for a query that does not exist', async () => {
    const queries = new FakeQueries(null);
    await markGood(queries, 'q', { version: 2, checkpointEpoch: 1 });
    expect(queries.writes).toEqual([]);
  });
});
