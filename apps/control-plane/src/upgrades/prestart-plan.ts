// When an upgrade pre-starts its new version, and the checkpoint a new-checkpoint upgrade records
// for it (ARCHITECTURE.md, "Upgrades", step 3). Pure: the executor acts on these.
import { STEPS, UPGRADE_PAUSE_STEP } from '../operations/operation-types';
import type {
  CheckpointRecord,
  StartingOffsetsChoice,
  VersionOnCheckpoint,
} from '../runtime/checkpoint-lineage';

const DRAIN_STEP = STEPS.upgrade[1]!;

export interface PrestartInput {
  strategy: 'in-place' | 'new-checkpoint';
  startingOffsets: StartingOffsetsChoice | null;
  /** A stateful query continuing on a new checkpoint pauses its sources and flushes first. */
  flush: boolean;
  from: VersionOnCheckpoint;
  to: VersionOnCheckpoint;
}

/**
 * The step that pre-starts the new version, or null when pre-starting is off: the first step that
 * touches the old version. With a flush that is the pause, before its command, so the new engines
 * load while the old version still reads its sources and the pause lasts no longer than before;
 * otherwise the drain, before its commands. Both strategies: a standby prepares nothing that
 * depends on where the old lineage ends (a new checkpoint's continue point is read at its release).
 */
export function prestartStep(p: Pick<PrestartInput, 'flush'>, setting: 'on' | 'off'): string | null {
  if (setting !== 'on') return null;
  return p.flush ? UPGRADE_PAUSE_STEP : DRAIN_STEP;
}

/**
 * The record of the checkpoint a new-checkpoint upgrade starts (undefined in place). Recorded
 * before any engine runs on it — the pre-started ones included, whose launch reads it — and kept
 * even when the upgrade rolls back, so its number is never reused.
 */
export function newCheckpointRecord(p: PrestartInput, createdAt: Date): CheckpointRecord | undefined {
  if (p.strategy !== 'new-checkpoint') return undefined;
  const startingOffsets = p.startingOffsets ?? 'continue';
  return {
    epoch: p.to.checkpointEpoch,
    createdAt: createdAt.toISOString(),
    version: p.to.version,
    startingOffsets,
    ...(startingOffsets === 'continue' ? { continueFromEpoch: p.from.checkpointEpoch } : {}),
  };
}
