// Which (version, checkpoint) pairs are known good, and where a rollback goes. A pair becomes
// good when its operation says so: an upgrade after its health gate, a deploy, start or rollback
// once its instances run. The pair it replaces is kept as the previous good one, so a rollback by
// hand can undo an upgrade that passed its gate.
import type { Query } from '../generated/prisma/client';
import type { GoodVersionsChange, QueryRepository } from '../repositories/query.repository';
import { sameTarget, type VersionOnCheckpoint } from '../runtime/checkpoint-lineage';

export function lastGood(q: Query): VersionOnCheckpoint | null {
  return q.lastGoodVersion === null
    ? null
    : { version: q.lastGoodVersion, checkpointEpoch: q.lastGoodCheckpointEpoch ?? 0 };
}

export function previousGood(q: Query): VersionOnCheckpoint | null {
  return q.previousGoodVersion === null
    ? null
    : { version: q.previousGoodVersion, checkpointEpoch: q.previousGoodCheckpointEpoch ?? 0 };
}

export const desiredTarget = (q: Query): VersionOnCheckpoint => ({
  version: q.desiredVersion,
  checkpointEpoch: q.checkpointEpoch,
});

/**
 * Where a rollback goes: the last good pair when the query runs something else (a version that
 * failed, or one deployed without a gate), else the good pair before it; null when there is none.
 */
export function rollbackTarget(q: Query): VersionOnCheckpoint | null {
  const current = desiredTarget(q);
  const last = lastGood(q);
  if (last && !sameTarget(last, current)) return last;
  const previous = previousGood(q);
  return previous && !sameTarget(previous, current) ? previous : null;
}

/**
 * The write that records `good` as the last good pair, the pair it replaces becoming the previous
 * one; null when `good` already is the last good pair (nothing to write).
 */
export function goodVersionChange(q: Query, good: VersionOnCheckpoint): GoodVersionsChange | null {
  const last = lastGood(q);
  if (last && sameTarget(last, good)) return null;
  return {
    lastGoodVersion: good.version,
    lastGoodCheckpointEpoch: good.checkpointEpoch,
    ...(last ? { previousGoodVersion: last.version, previousGoodCheckpointEpoch: last.checkpointEpoch } : {}),
  };
}

/** What markGood reads and writes: the query repository, or a typed fake of it in a unit test. */
export type GoodVersionStore = Pick<QueryRepository, 'find' | 'recordGoodVersions'>;

/** Records `good` as the last good pair (a no-op when it already is, or the query is gone). */
export async function markGood(
  queries: GoodVersionStore,
  queryId: string,
  good: VersionOnCheckpoint,
): Promise<void> {
  const q = await queries.find(queryId);
  const change = q && goodVersionChange(q, good);
  if (change) await queries.recordGoodVersions(queryId, change);
}
