// A new checkpoint lineage nothing ran on (ARCHITECTURE.md, "Upgrades", rollback): an upgrade
// that rolls back before it ever made the new lineage desired leaves only what its pre-started
// engines prepared, which never writes to the checkpoint. Pure: the executor acts on these.
import { checkpointScope, fileSourceTopicPrefix, repartitionTopic } from '@sluice/contracts';
import type { CheckpointRecord, VersionOnCheckpoint } from '../runtime/checkpoint-lineage';

/**
 * The lineage a rollback may forget, or null: only a new checkpoint's (in place, the lineage is
 * the old version's own), and only when the upgrade failed before the new version was made
 * desired — until then the reconciler starts nothing on it, and a standby runs on it only once a
 * start releases it, so no engine has written to it.
 */
export function unusedLineage(
  from: VersionOnCheckpoint,
  to: VersionOnCheckpoint,
  failedBeforeSwitch: boolean,
): number | null {
  return failedBeforeSwitch && to.checkpointEpoch !== from.checkpointEpoch ? to.checkpointEpoch : null;
}

/**
 * `records` with lineage `epoch` marked abandoned, or null when there is nothing to mark (not
 * recorded — nothing was pre-started — or already marked). The record is kept: epochs are never
 * reused (a standby may have created topics named after it), and deleting the query still deletes
 * them. Refused for the lineage the query runs on or may roll back to.
 */
export function abandonRecord(
  records: CheckpointRecord[],
  epoch: number,
  inUse: number[],
  at: Date,
  reason: string,
): CheckpointRecord[] | null {
  if (inUse.includes(epoch)) throw new Error(`checkpoint c${epoch} is in use; it cannot be forgotten`);
  const record = records.find((r) => r.epoch === epoch);
  if (!record || record.abandoned) return null;
  return records.map((r) =>
    r.epoch === epoch ? { ...r, abandoned: { at: at.toISOString(), reason: reason.slice(0, 500) } } : r,
  );
}

/** Topics a standby of lineage `epoch` may have created: its repartition topic; file sources' by prefix. */
export function lineageTopics(queryId: string, epoch: number): { names: string[]; prefixes: string[] } {
  const scope = checkpointScope(queryId, epoch);
  return { names: [repartitionTopic(scope)], prefixes: [fileSourceTopicPrefix(scope)] };
}
