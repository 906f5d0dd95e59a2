// A query's checkpoints (ARCHITECTURE.md, "Upgrades"): epoch 0 is its first; every
// `new-checkpoint` upgrade starts the next one beside the kept old ones, recorded in
// `Query.checkpoints` before any engine runs on it. What an engine needs to run on one: where
// it lives and, for a fresh one, where it starts.
import path from 'node:path';
import { checkpointScope } from '@sluice/contracts';

export type StartingOffsetsChoice = 'continue' | 'earliest' | 'latest';

export interface CheckpointRecord {
  epoch: number;
  createdAt: string;
  /** The version the checkpoint was started for. */
  version: number;
  startingOffsets: StartingOffsetsChoice;
  /** For `continue`: the checkpoint whose committed offsets it starts from. */
  continueFromEpoch?: number;
  /**
   * Set when an upgrade rolled back before any engine ran on it (upgrades/unused-lineage.ts): the
   * record stays so its number is not reused, and nothing may run on it again.
   */
  abandoned?: { at: string; reason: string };
}

export interface VersionOnCheckpoint {
  version: number;
  checkpointEpoch: number;
}

export function checkpointRecords(value: unknown): CheckpointRecord[] {
  return Array.isArray(value) ? (value as CheckpointRecord[]) : [];
}

/** Epochs are never reused: a checkpoint once recorded keeps its number even if abandoned. */
export function nextCheckpointEpoch(records: CheckpointRecord[], current: number): number {
  return Math.max(current, ...records.map((r) => r.epoch)) + 1;
}

/** Local runtime: `<SLUICE_HOME>/checkpoints/<queryId>` for epoch 0, `<queryId>.c<n>` after. */
export function localCheckpointPath(home: string, queryId: string, epoch: number): string {
  return path.resolve(home, 'checkpoints', checkpointScope(queryId, epoch));
}

/** The checkpoint part of an instance launch for the query's desired checkpoint. */
export function checkpointLaunch(
  q: { id: string; checkpointEpoch: number; checkpoints: unknown },
  home: string,
): {
  checkpointUri: string;
  checkpointEpoch: number;
  startingOffsets: 'earliest' | 'latest' | null;
  continueFrom: { epoch: number; checkpointUri: string } | null;
} {
  const record = checkpointRecords(q.checkpoints).find((r) => r.epoch === q.checkpointEpoch);
  const from = record?.startingOffsets === 'continue' ? record.continueFromEpoch : undefined;
  return {
    checkpointUri: localCheckpointPath(home, q.id, q.checkpointEpoch),
    checkpointEpoch: q.checkpointEpoch,
    startingOffsets:
      record && record.startingOffsets !== 'continue' && q.checkpointEpoch > 0
        ? record.startingOffsets
        : null,
    continueFrom:
      from === undefined ? null : { epoch: from, checkpointUri: localCheckpointPath(home, q.id, from) },
  };
}

export const sameTarget = (a: VersionOnCheckpoint, b: VersionOnCheckpoint): boolean =>
  a.version === b.version && a.checkpointEpoch === b.checkpointEpoch;

export const describeTarget = (t: VersionOnCheckpoint): string =>
  `version ${t.version}${t.checkpointEpoch > 0 ? ` on checkpoint c${t.checkpointEpoch}` : ''}`;
